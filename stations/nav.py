"""The menu: each screen registers itself with the roles that may use it.

Labels and hints are lazy texts (`lazy_gettext`): registered once at import, written in the
reader's language each time the menu is drawn."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask import request, url_for
from flask_login import current_user

from warehouse.models import Role


@dataclass(frozen=True)
class NavEntry:
    label: Any  # a str or a lazy text
    endpoint: str
    roles: frozenset[Role]
    hint: Any
    order: int


_ENTRIES: list[NavEntry] = []


def register(label: Any, endpoint: str, roles: set[Role], hint: Any = "", order: int = 50) -> None:
    """Add a screen to the menu of `roles` (admins see everything)."""
    if any(entry.endpoint == endpoint for entry in _ENTRIES):
        return
    _ENTRIES.append(NavEntry(label, endpoint, frozenset(roles), hint, order))
    _ENTRIES.sort(key=lambda entry: (entry.order, str(entry.label)))


def nav_items() -> list[dict]:
    """Menu entries for the logged-in user, with the current one marked."""
    if not current_user.is_authenticated:
        return []
    items = []
    for entry in _ENTRIES:
        # Admins see every screen but the partner portal's (it shows one partner's own data).
        admin_sees = current_user.role == Role.ADMIN and entry.roles != {Role.PARTNER}
        if admin_sees or current_user.role in entry.roles:
            url = url_for(entry.endpoint)
            items.append(
                {
                    "label": str(entry.label),
                    "url": url,
                    "hint": str(entry.hint),
                    "active": request.path.startswith(url) and url != "/",
                }
            )
    return items
