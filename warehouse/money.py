"""Money as integer minor units with an ISO currency: parsing, formatting, percentages."""

from __future__ import annotations

import enum
import re

from warehouse.i18n import gettext as _

# Minor-unit exponent per currency we trade in (SPEC section 2).
MINOR_DIGITS = {"EUR": 2, "GBP": 2, "DKK": 2, "SEK": 2}
Currency = enum.StrEnum("Currency", [(code, code) for code in MINOR_DIGITS])
Currency.__doc__ = "A currency we trade in (ISO 4217)."

_AMOUNT = re.compile(r"^\s*(?P<sign>-)?(?P<whole>\d{1,12})(?:[.,](?P<frac>\d+))?\s*$")


class MoneyError(ValueError):
    """An amount or currency that cannot be money here."""


def check_currency(currency: str) -> str:
    """Return the currency code if we trade in it, else raise MoneyError."""
    if currency not in MINOR_DIGITS:
        raise MoneyError(_("unknown currency %(currency)s", currency=repr(currency)))
    return currency


def parse_amount(text: str, currency: str) -> int:
    """Parse '12.34' or '12,34' into minor units of `currency`; too many decimals is an error."""
    digits = MINOR_DIGITS[check_currency(currency)]
    match = _AMOUNT.match(str(text))
    if not match:
        raise MoneyError(_("%(text)s is not an amount", text=repr(text)))
    frac = match["frac"] or ""
    if len(frac) > digits:
        raise MoneyError(
            _(
                "%(currency)s has %(digits)s decimals, got %(text)s",
                currency=currency,
                digits=digits,
                text=repr(text),
            )
        )
    minor = int(match["whole"]) * 10**digits + int(frac.ljust(digits, "0") or 0)
    return -minor if match["sign"] else minor


def format_minor(minor: int, currency: str) -> str:
    """Human form, e.g. 'EUR 12.34' (always the code, so statements are unambiguous)."""
    digits = MINOR_DIGITS[check_currency(currency)]
    sign = "-" if minor < 0 else ""
    whole, frac = divmod(abs(minor), 10**digits)
    return (
        f"{currency} {sign}{whole:,}.{frac:0{digits}d}" if digits else f"{currency} {sign}{whole:,}"
    )


def to_decimal_string(minor: int, currency: str) -> str:
    """Plain machine form for CSV / JSON: '12.34', '-0.50'."""
    digits = MINOR_DIGITS[check_currency(currency)]
    sign = "-" if minor < 0 else ""
    whole, frac = divmod(abs(minor), 10**digits)
    return f"{sign}{whole}.{frac:0{digits}d}" if digits else f"{sign}{whole}"


def basis_points_of(minor: int, bp: int) -> int:
    """`bp`/10000 of an amount, rounded half away from zero to a whole minor unit."""
    numerator = minor * bp
    quotient, remainder = divmod(abs(numerator), 10_000)
    if remainder * 2 >= 10_000:
        quotient += 1
    return -quotient if numerator < 0 else quotient
