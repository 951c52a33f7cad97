"""The JSON API under /api/v1: token auth, one module per resource, the OpenAPI document.

Each resource module adds its routes to `blueprint.bp` when imported; importing this package
imports them all, so registering `bp` registers the whole API.
"""

from stations.api import (
    accounting,
    cases,
    dashboard,
    disclosure,
    exceptions,
    lookup,
    openapi,
    orders,
    partners,
    products,
    refunds,
    resale_listings,
    returns,
    sites,
    tokens,
    withdrawals,
)
from stations.api.blueprint import bp

RESOURCES = (
    orders,
    partners,
    products,
    returns,
    cases,
    refunds,
    resale_listings,
    accounting,
    dashboard,
    disclosure,
    exceptions,
    lookup,
    sites,
    tokens,
    withdrawals,
    openapi,
)

__all__ = ["RESOURCES", "bp"]
