"""The warehouse's own barcodes: RMA numbers and licence plates (LPNs), each with a check symbol.

Both use Crockford's base32 alphabet (digits and capitals without I, L, O, U, so nothing is read
as a 1 or a 0 by mistake) and end in Crockford's mod-37 check symbol, which catches every single
wrong character and every swap of two neighbours. A mistyped or misread code is therefore
*malformed*, never silently somebody else's parcel.

    RMA-7K3QF2W    "RMA-" + 6 random symbols + check    (customer-facing, printed on the label)
    LP4D8ZK1M2Q    "LP" + 8 random symbols + check      (unit licence plate, Code128)

Codes are drawn so that the check symbol is a letter or digit as well: every code is plain
upper-case alphanumerics (plus the RMA's dash), safe in Code128, ZPL, URLs and by hand.
"""

from __future__ import annotations

import re
import secrets

ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
CHECK_SYMBOLS = ALPHABET + "*~$=U"  # 37 symbols: Crockford's check alphabet
RMA_PREFIX = "RMA-"
PARCEL_PREFIX = "CP-"
LPN_PREFIX = "LP"
RMA_BODY = 6
LPN_BODY = 8

# Station commands (`CMD-…`), checklist toggles (`CHECK-…`) and grade-sheet codes (`GRADE-…`)
# are read by the stations before anything else; no bin or other code may start so.
STATION_CODE_PREFIXES = ("CMD-", "CHECK-", "GRADE-")

# What a scan looks like when it is meant to be one of ours (before the check symbol is verified).
RMA_SHAPE = re.compile(r"^RMA-?([0-9A-Z]{6})([0-9A-Z]?)$")
LPN_SHAPE = re.compile(r"^LP([0-9A-Z]{8})([0-9A-Z]?)$")


def check_symbol(body: str) -> str:
    """Crockford's mod-37 check symbol of a base32 string."""
    value = 0
    for char in body:
        value = value * 32 + ALPHABET.index(char)
    return CHECK_SYMBOLS[value % 37]


def _random_body(length: int) -> str:
    """Random symbols whose check symbol is a letter or digit too: the four punctuation check
    symbols (*~$=) would be awkward to type and are control characters in ZPL."""
    while True:
        body = "".join(secrets.choice(ALPHABET) for _ in range(length))
        if check_symbol(body).isalnum():
            return body


def new_rma() -> str:
    """A fresh random RMA number (uniqueness is the caller's unique index)."""
    body = _random_body(RMA_BODY)
    return f"{RMA_PREFIX}{body}{check_symbol(body)}"


def new_parcel_code() -> str:
    """A fresh code for a parcel to a customer (`CP-` + 6 symbols + check), its label barcode."""
    body = _random_body(RMA_BODY)
    return f"{PARCEL_PREFIX}{body}{check_symbol(body)}"


def new_lpn() -> str:
    """A fresh random licence plate: short, Code128-safe, with a check symbol."""
    body = _random_body(LPN_BODY)
    return f"{LPN_PREFIX}{body}{check_symbol(body)}"


def normalise(code: str) -> str:
    """A scan as we compare it: trimmed, upper case, inner spaces dropped."""
    return re.sub(r"\s+", "", code or "").upper()


def _valid(shape: re.Pattern, code: str) -> bool | None:
    match = shape.match(code)
    if match is None:
        return None
    body, check = match.groups()
    if any(char not in ALPHABET for char in body):
        return False
    return check == check_symbol(body)


def rma_status(code: str) -> bool | None:
    """None if `code` does not look like an RMA, else whether its check symbol is right."""
    return _valid(RMA_SHAPE, normalise(code))


def lpn_status(code: str) -> bool | None:
    """None if `code` does not look like an LPN, else whether its check symbol is right."""
    return _valid(LPN_SHAPE, normalise(code))


def canonical_rma(code: str) -> str:
    """The stored spelling of a (valid) RMA scan: 'rma 7k3qf2w' → 'RMA-7K3QF2W'."""
    match = RMA_SHAPE.match(normalise(code))
    if match is None:
        return normalise(code)
    return RMA_PREFIX + "".join(match.groups())


def is_gtin(code: str) -> bool:
    """True for a product barcode: EAN-8, UPC-A, EAN-13 or GTIN-14 with a correct check digit."""
    code = normalise(code)
    if not (code.isascii() and code.isdigit()) or len(code) not in (8, 12, 13, 14):
        return False
    digits = [int(char) for char in code]
    body, check = digits[:-1], digits[-1]
    total = sum(d * (3 if i % 2 == 0 else 1) for i, d in enumerate(reversed(body)))
    return (10 - total % 10) % 10 == check


def looks_like_gtin(code: str) -> bool:
    """Digits only and a product-barcode length (whether or not the check digit is right)."""
    code = normalise(code)
    return code.isascii() and code.isdigit() and len(code) in (8, 12, 13, 14)


def is_station_code(code: str) -> bool:
    """True for a code the stations read as a command, a checklist toggle or a grade."""
    return (code or "").strip().upper().startswith(STATION_CODE_PREFIXES)
