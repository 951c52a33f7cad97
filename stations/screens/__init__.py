"""The screens people use, one module (and one blueprint) per screen.

Warehouse stations (`receive`, `grade`, `route`, `dispatch` to customers), supervisor screens
(`cases`, `rules`, `batches` with locations, `exports`, `jobs`, `mailbox`), the partner `portal`,
the public `customer` return pages and `caselinks` (a partner's one-click decision links),
plus `home` and the `photos` they all show.
"""

from __future__ import annotations

from flask import Flask

from stations.screens import (
    account,
    admin,
    admin_partners,
    admin_people,
    admin_sites,
    admin_webhooks,
    batches,
    caselinks,
    cases,
    catalogue,
    customer,
    dashboard,
    disclosure,
    dispatch,
    exceptions,
    exports,
    grade,
    home,
    jobs,
    lookup,
    mailbox,
    money,
    overview,
    photos,
    portal,
    portal_catalogue,
    portal_receiving,
    printers,
    receive,
    route,
    rules,
)

SCREENS = (
    home,
    overview,
    exceptions,
    lookup,
    dashboard,
    disclosure,
    customer,
    receive,
    grade,
    photos,
    route,
    dispatch,
    rules,
    portal,
    portal_catalogue,
    portal_receiving,
    caselinks,
    cases,
    exports,
    batches,
    money,
    printers,
    jobs,
    mailbox,
    admin,
    admin_partners,
    catalogue,
    admin_sites,
    admin_people,
    admin_webhooks,
    account,
)


def init_app(app: Flask) -> None:
    """Register every screen's blueprint."""
    for screen in SCREENS:
        app.register_blueprint(screen.bp)
