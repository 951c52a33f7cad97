"""Orders from a CSV file, for partners and channels that send spreadsheets instead of JSON.

One row per order line; the rows of an order share its `order_number` (they need not be next to
each other) and repeat or leave empty the order's columns. Each order goes through the same
checks as the API (`warehouse.orders.place_order`). An order with any error is not imported at
all and its errors are reported by row number (the header is row 1) and column; the other
orders are imported. Importing the same file again adds nothing.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.orm import Session

from warehouse.csvfiles import Row, read_csv
from warehouse.errors import DomainError
from warehouse.events import Actor
from warehouse.money import MINOR_DIGITS, MoneyError, parse_amount
from warehouse.orders import place_order

ORDER_COLUMNS = (
    "order_number",
    "channel",
    "customer_name",
    "customer_email",
    "customer_postcode",
    "customer_address",
    "country",
    "currency",
    "language",
    "withdrawal_informed",
    "placed_at",
)
LINE_COLUMNS = ("partner", "sku", "gtin", "quantity", "unit_price", "serial_numbers")
COLUMNS = ORDER_COLUMNS + LINE_COLUMNS
REQUIRED_COLUMNS = (
    "order_number",
    "customer_name",
    "customer_email",
    "customer_postcode",
    "country",
    "currency",
    "quantity",
)
SERIAL_SEPARATOR = "|"

# Where a field of the order dict came from in the file.
_ORDER_FIELD_COLUMN = {
    "number": "order_number",
    "customer": "customer_name",
    "customer.name": "customer_name",
    "customer.email": "customer_email",
    "customer.postcode": "customer_postcode",
    "customer.address": "customer_address",
}
_LINE_FIELD = re.compile(r"^lines\[(\d+)\](?:\.(\w+))?")
_LINE_FIELD_COLUMN = {"unit_price_minor": "unit_price"}
_TRUE = {"1", "true", "yes", "y", "ja", "oui"}
_FALSE = {"0", "false", "no", "n", "nee", "nein", "non"}


@dataclass(frozen=True)
class RowError:
    """Why an order was not imported: the row and column at fault."""

    row: int
    column: str | None
    message: str
    order_number: str = ""

    def __str__(self) -> str:
        where = f"row {self.row}" + (f", column {self.column}" if self.column else "")
        suffix = f" (order {self.order_number} not imported)" if self.order_number else ""
        return f"{where}: {self.message}{suffix}"


@dataclass
class ImportResult:
    """What an import did: orders created, orders already there, and refusals."""

    created: list[str] = field(default_factory=list)
    existing: list[str] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)


@dataclass
class _Group:
    number: str
    rows: list[tuple[int, dict[str, str]]] = field(default_factory=list)
    problems: list[RowError] = field(default_factory=list)


def read_rows(data: bytes) -> tuple[list[Row], list[RowError]]:
    """The data rows as (row number, {column: value}, problem or None), or the file's errors."""
    rows, problems = read_csv(data, COLUMNS, REQUIRED_COLUMNS)
    return rows, [RowError(row, column, message) for row, column, message in problems]


def import_orders(
    session: Session,
    data: bytes,
    actor: Actor,
    *,
    partner_id: int | None = None,
    partner_code: str | None = None,
) -> ImportResult:
    """Place every order of a CSV file; flushes, never commits. See the module docstring.

    With `partner_code` (a partner's own file), lines without a partner column are that
    partner's, and `partner_id` limits the file to that partner's products.
    """
    result = ImportResult()
    rows, errors = read_rows(data)
    result.errors.extend(errors)
    groups: dict[str, _Group] = {}
    for row, values, problem in rows:
        number = values.get("order_number", "")
        if not number:
            result.errors.append(RowError(row, "order_number", "order_number is empty"))
            continue
        group = groups.setdefault(number, _Group(number))
        group.rows.append((row, values))
        if problem:
            group.problems.append(RowError(row, None, problem, number))

    for group in groups.values():
        order, problems = _order_dict(group, partner_code)
        problems = group.problems + problems
        if not problems:
            try:
                _placed, created = place_order(session, order, actor, partner_id=partner_id)
            except DomainError as error:
                problems = [_locate(error, group)]
            else:
                (result.created if created else result.existing).append(group.number)
                continue
        result.refused.append(group.number)
        result.errors.extend(problems)
    result.errors.sort(key=lambda error: error.row)
    return result


def _order_dict(group: _Group, partner_code: str | None) -> tuple[dict[str, Any], list[RowError]]:
    """The API's order dict for one order's rows, and the problems only the file can have."""
    problems: list[RowError] = []
    first_row, first = group.rows[0]
    for row, values in group.rows[1:]:
        for column in ORDER_COLUMNS:
            value = values.get(column, "")
            if value and value != first.get(column, ""):
                problems.append(
                    RowError(
                        row,
                        column,
                        f"{column} {value!r} differs from {first.get(column, '')!r} on row "
                        f"{first_row} of the same order",
                        group.number,
                    )
                )

    def order_value(column: str) -> str:
        return first.get(column, "")

    customer = {
        "name": order_value("customer_name"),
        "email": order_value("customer_email"),
        "postcode": order_value("customer_postcode"),
    }
    if order_value("customer_address"):
        customer["address"] = order_value("customer_address")
    order: dict[str, Any] = {
        "number": group.number,
        "customer": customer,
        "country": order_value("country"),
        "currency": order_value("currency").upper(),
    }
    for column in ("channel", "language", "placed_at"):
        if order_value(column):
            order[column] = order_value(column)
    informed = order_value("withdrawal_informed").lower()
    if informed:
        if informed in _TRUE | _FALSE:
            order["withdrawal_informed"] = informed in _TRUE
        else:
            problems.append(
                RowError(first_row, "withdrawal_informed", "write yes or no", group.number)
            )

    lines = []
    for row, values in group.rows:
        line: dict[str, Any] = {}
        partner = values.get("partner") or partner_code
        if partner:
            line["partner"] = partner
        for column in ("sku", "gtin"):
            if values.get(column):
                line[column] = values[column]
        quantity = values.get("quantity", "")
        if re.fullmatch(r"-?\d{1,6}", quantity):
            line["quantity"] = int(quantity)
        else:
            problems.append(
                RowError(row, "quantity", f"{quantity!r} is not a whole number", group.number)
            )
        price = values.get("unit_price", "")
        if price and order["currency"] in MINOR_DIGITS:
            try:
                line["unit_price_minor"] = parse_amount(price, order["currency"])
            except MoneyError as error:
                problems.append(RowError(row, "unit_price", str(error), group.number))
        if values.get("serial_numbers"):
            line["serial_numbers"] = [
                serial.strip()
                for serial in values["serial_numbers"].split(SERIAL_SEPARATOR)
                if serial.strip()
            ]
        lines.append(line)
    order["lines"] = lines
    return order, problems


def _locate(error: DomainError, group: _Group) -> RowError:
    """The row and column of the file a domain error's field came from."""
    first_row = group.rows[0][0]
    name = error.field or ""
    match = _LINE_FIELD.match(name)
    if match:
        index = int(match[1])
        row = group.rows[index][0] if index < len(group.rows) else first_row
        column = match[2] and _LINE_FIELD_COLUMN.get(match[2], match[2])
        return RowError(row, column, error.message, group.number)
    column = _ORDER_FIELD_COLUMN.get(name, name if name in COLUMNS else None)
    return RowError(first_row, column, error.message, group.number)
