"""Administration (admins only): partners, the catalogue, sites and their countries, users and
API tokens. Each area is a screen module of its own (`admin_partners`, `catalogue`,
`admin_sites`, `admin_people`); this one is their index."""

from __future__ import annotations

from flask import Blueprint, render_template

from stations import nav
from stations.auth import roles_required
from warehouse.i18n import lazy_gettext as _l
from warehouse.models import Role

bp = Blueprint("admin", __name__, url_prefix="/admin")

nav.register(
    _l("Admin"), "admin.index", {Role.ADMIN}, _l("Partners, catalogue, sites, users, tokens"), 90
)

AREAS = (
    ("admin_partners.index", _l("Partners"), _l("Onboard, edit, deactivate; policy history")),
    ("catalogue.index", _l("Catalogue"), _l("Import products and prices from CSV")),
    ("admin_sites.index", _l("Sites"), _l("Returns centres and each country's return address")),
    ("admin_people.users", _l("Users"), _l("Logins, roles, invitations, password resets")),
    ("admin_people.tokens", _l("API tokens"), _l("Create, see last use, revoke")),
    (
        "admin_webhooks.index",
        _l("Channels"),
        _l("Sales channels, the resale channel, signed webhooks"),
    ),
)


@bp.get("/")
@roles_required(Role.ADMIN)
def index():
    """The administration areas."""
    return render_template("admin/index.html", areas=AREAS)
