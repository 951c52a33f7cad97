"""The languages we write in: gettext catalogs, the reader's language, and locale formats.

Every text a person reads goes through `_()` (or `ngettext`): in templates, in mails, on labels,
and for the labels of codes (grades, reasons, checklist items…), which are marked with `N_()` or
made lazy with `lazy_gettext` and translated when they are shown. The catalogs live in
`translations/<lang>/LC_MESSAGES/messages.po`; `make translations` extracts the messages and
updates them, the `.mo` files are compiled by `make` before the app runs (see the README).

Whose language: `reading(lang)` sets it for the code inside (a mail being rendered, a label being
drawn, a request being answered); `current()` tells it. The stations pick it per request:
customer pages from the order, the country or the browser; the portal from the partner; the
staff screens from the user's setting (`stations.languages`).

Formats: `money()`, `date()`, `datetime_()` and `number()` follow the reader's locale. Exports and
APIs keep machine formats (`warehouse.money.to_decimal_string`, ISO dates).
"""

from __future__ import annotations

import contextlib
import contextvars
import datetime as dt
import functools
import os
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

from babel import Locale, dates, numbers, support

# The languages customers, partners and staff are written to in: English first (the msgids).
LANGUAGES = ("en", "nl", "de", "fr", "it", "es", "da", "sv")
DEFAULT = "en"
# Each language in its own words, for the language switch.
NATIVE_NAMES = {
    "en": "English",
    "nl": "Nederlands",
    "de": "Deutsch",
    "fr": "Français",
    "it": "Italiano",
    "es": "Español",
    "da": "Dansk",
    "sv": "Svenska",
}
TRANSLATIONS = Path(__file__).resolve().parent.parent / "translations"

_reading: contextvars.ContextVar[str] = contextvars.ContextVar("reading", default=DEFAULT)


def supported(language: str | None) -> str | None:
    """`language` (or its primary part, 'sv-SE' → 'sv') if we write in it, else None."""
    if not language:
        return None
    primary = str(language).replace("_", "-").split("-", 1)[0].strip().lower()
    return primary if primary in LANGUAGES else None


def current() -> str:
    """The language of whoever is reading what is being made now."""
    return _reading.get()


@contextlib.contextmanager
def reading(language: str | None) -> Iterator[str]:
    """Within the block, texts and formats are for a reader of `language` (English if unknown)."""
    chosen = supported(language) or DEFAULT
    token = _reading.set(chosen)
    try:
        yield chosen
    finally:
        _reading.reset(token)


def enter(language: str | None) -> contextvars.Token:
    """Start a reader of `language` (a request); `leave(token)` ends it."""
    return _reading.set(supported(language) or DEFAULT)


def leave(token: contextvars.Token) -> None:
    """End what `enter` started."""
    _reading.reset(token)


def set_reading(language: str | None) -> str:
    """Set the reader's language for the rest of this context (one request); returns it."""
    chosen = supported(language) or DEFAULT
    _reading.set(chosen)
    return chosen


@functools.cache
def catalog(language: str) -> support.NullTranslations:
    """The compiled catalog of `language` (English and a missing .mo give the msgids back)."""
    if language == DEFAULT:
        return support.NullTranslations()
    return support.Translations.load(str(TRANSLATIONS), [language], domain="messages")


def compile_catalogs() -> list[Path]:
    """Compile each language's .po whose .mo is missing or older (what `make` does)."""
    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po

    compiled = []
    for po in sorted(TRANSLATIONS.glob("*/LC_MESSAGES/messages.po")):
        mo = po.with_suffix(".mo")
        if mo.exists() and mo.stat().st_mtime >= po.stat().st_mtime:
            continue
        with po.open("rb") as source:
            messages = read_po(source, locale=po.parent.parent.name)
        # Written aside and renamed: a process starting meanwhile reads the old file or the new.
        partial = mo.with_name(f"messages.mo.{os.getpid()}")
        with partial.open("wb") as target:
            write_mo(target, messages)
        os.replace(partial, mo)
        compiled.append(mo)
    catalog.cache_clear()
    return compiled


def translations() -> support.NullTranslations:
    """The catalog of whoever is reading now."""
    return catalog(current())


def gettext(message: str, **variables) -> str:
    """`message` in the reader's language, with `%(name)s` placeholders filled from `variables`
    (without them, the translation as it is)."""
    text = translations().ugettext(message)
    return text % variables if variables else text


def ngettext(singular: str, plural: str, count: int, **variables) -> str:
    """The singular or plural form for `count` in the reader's language; `%(num)s` is `count`."""
    text = translations().ungettext(singular, plural, count)
    return text % {"num": count, **variables}


def pgettext(context: str, message: str, **variables) -> str:
    """`message` in the sense `context` gives it (the same English word can need two words)."""
    text = translations().upgettext(context, message)
    return text % variables if variables else text


_ = gettext


def lazy_gettext(message: str) -> support.LazyProxy:
    """A text translated each time it is shown, for module-level labels of codes."""
    return support.LazyProxy(gettext, message, enable_cache=False)


def N_(message: str) -> str:
    """Mark `message` for extraction only; it is translated where it is shown, with `_()`."""
    return message


def in_language(language: str | None, message: str, **variables) -> str:
    """`message` for a reader of `language`, whoever is reading now."""
    with reading(language):
        return gettext(message, **variables)


# -- formats ------------------------------------------------------------------------------------


def locale() -> Locale:
    """The Babel locale of the reader."""
    return _locale(current())


@functools.cache
def _locale(language: str) -> Locale:
    return Locale.parse(language)


def money(minor: int, currency: str) -> str:
    """An amount as the reader writes it: '€ 1.234,56' (nl), '1.234,56 €' (de), '€1,234.56' (en)."""
    digits = numbers.get_currency_precision(currency)  # the minor units' digits, as CLDR has them
    amount = Decimal(int(minor)).scaleb(-digits)
    return numbers.format_currency(amount, currency, locale=locale())


def number(value: int | float | Decimal, decimals: int | None = None) -> str:
    """A number as the reader writes it ('1.234' in nl and de, '1,234' in en)."""
    if decimals is None:
        return numbers.format_decimal(value, locale=locale())
    pattern = "#,##0" + ("." + "0" * decimals if decimals else "")
    return numbers.format_decimal(value, format=pattern, locale=locale())


def percent(basis_points: int) -> str:
    """Basis points as the reader writes a percentage: '12.5%' (en), '12,5 %' (de)."""
    return numbers.format_percent(
        Decimal(int(basis_points)).scaleb(-4), format="#,##0.##%", locale=locale()
    )


def date(day: dt.date | dt.datetime | None, style: str = "medium") -> str:
    """A calendar day as the reader writes it ('1 Dec 2026', '1 dec. 2026', '01.12.2026')."""
    if day is None:
        return ""
    if isinstance(day, dt.datetime):
        day = day.date()
    return dates.format_date(day, format=style, locale=locale())


def datetime_(moment: dt.datetime | None, timezone: str | None = None, style: str = "short") -> str:
    """A moment in `timezone` (UTC if none) as the reader writes a date and a time."""
    if moment is None:
        return ""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    zone = dates.get_timezone(timezone) if timezone else dt.UTC
    return dates.format_datetime(moment, format=style, tzinfo=zone, locale=locale())


def language_name(language: str) -> str:
    """A language's name in its own words."""
    return NATIVE_NAMES.get(language, language)
