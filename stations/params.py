"""Ids read from a request, in one place: URL segments through the `int` converter, form and
query fields through `id_param`. Either way an id no row can have (more digits than a database
integer holds, a sign, letters) is refused before it reaches a query, never an overflow (500).
"""

from __future__ import annotations

from flask import Flask, request
from werkzeug.routing import IntegerConverter

from warehouse.db import MAX_ID
from warehouse.errors import InvalidInput
from warehouse.i18n import gettext as _


class IdConverter(IntegerConverter):
    """`<int:…>` in every route: 0 … MAX_ID; a larger number matches no route (404)."""

    def __init__(self, map, *args, **kwargs) -> None:
        kwargs.setdefault("max", MAX_ID)
        super().__init__(map, *args, **kwargs)


def init_app(app: Flask) -> None:
    """Make `<int:…>` URL segments bounded ids."""
    app.url_map.converters["int"] = IdConverter


def as_id(value: str) -> int | None:
    """`value` as an id, or None when it cannot be one (not digits, or beyond MAX_ID)."""
    value = value.strip()
    if not value.isascii() or not value.isdigit() or len(value) > len(str(MAX_ID)):
        return None
    number = int(value)
    return number if number <= MAX_ID else None


def id_param(name: str) -> int | None:
    """The request's field `name` (form or query) as an id; None when empty.

    Anything else that is not an id is refused, naming the field.
    """
    raw = request.values.get(name, "").strip()
    if not raw:
        return None
    number = as_id(raw)
    if number is None:
        raise InvalidInput(_("%(name)s must be a record number", name=name), field=name)
    return number


def page_number() -> int:
    """The list page asked for with `?page=` (1 when absent or not a page number)."""
    return max(1, min(as_id(request.args.get("page", "")) or 1, 100_000))
