"""The template filters that write codes, amounts and days in the reader's words.

Both template environments use them: the stations' (`stations.languages`) and the mails'
(`warehouse.mail`). A code the label tables do not know is shown as it is.
"""

from __future__ import annotations

import datetime as dt

from warehouse import grounds, i18n
from warehouse.checklists import CHECKLIST_LABELS
from warehouse.models import ExceptionKind, Grade, Reason, Resolution, Role
from warehouse.vocabulary import (
    DISPOSITION_LABELS,
    GRADE_LABELS,
    REASON_LABELS,
    RESOLUTION_LABELS,
    ROLE_LABELS,
    STAGE_LABELS,
    disposition_word,
    exception_word,
    label_of,
    status_word,
)


def _grade(code) -> str:
    return label_of(GRADE_LABELS, code, Grade)


def _checklist_item(key) -> str:
    return label_of(CHECKLIST_LABELS, key)


def _reason(code) -> str:
    return label_of(REASON_LABELS, code, Reason)


def _exception_kind(code) -> str:
    return exception_word(code)


def _role(code) -> str:
    return label_of(ROLE_LABELS, code, Role)


def _resolution(code) -> str:
    return label_of(RESOLUTION_LABELS, code, Resolution)


def _stage(code) -> str:
    return label_of(STAGE_LABELS, code)


def _remedy(code) -> str:
    word = grounds.WORDS["remedy"].get(str(code))
    return i18n.gettext(word) if word else str(code or "")


def code_word(member) -> str:
    """Any code of ours (an enum member) in the reader's words, by what kind of code it is."""
    if isinstance(member, Grade):
        return _grade(member)
    if isinstance(member, Reason):
        return _reason(member)
    if isinstance(member, ExceptionKind):
        return _exception_kind(member)
    if isinstance(member, Resolution):
        return _resolution(member)
    if isinstance(member, Role):
        return _role(member)
    value = str(getattr(member, "value", member) or "")
    if value in DISPOSITION_LABELS:
        return disposition_word(value)
    return status_word(value).replace("_", " ")


def _day(value) -> str:
    if not value:
        return ""
    if isinstance(value, str):
        try:
            value = dt.date.fromisoformat(value[:10])
        except ValueError:
            return value
    return i18n.date(value)


def _moment(value, timezone: str | None = None) -> str:
    if not value:
        return ""
    if isinstance(value, str):
        try:
            value = dt.datetime.fromisoformat(value)
        except ValueError:
            return value
    return i18n.datetime_(value, timezone)


FILTERS = {
    "money": i18n.money,
    "number": i18n.number,
    "percent": i18n.percent,
    "day": _day,
    "moment": _moment,
    "grade": _grade,
    "checklist_item": _checklist_item,
    "reason": _reason,
    "exception_kind": _exception_kind,
    "ground": grounds.retell,
    "remedy": _remedy,
    "stage": _stage,
    "disposition": disposition_word,
    "status": status_word,
    "word": code_word,
    "resolution": _resolution,
    "role": _role,
    "language_name": i18n.language_name,
}


def install(env) -> None:
    """Give a Jinja environment the filters and `_()` / `ngettext` of the reader's language."""
    if "jinja2.ext.InternationalizationExtension" not in env.extensions:
        env.add_extension("jinja2.ext.i18n")
    # Jinja's newstyle calls fill the placeholders themselves (escaping values in HTML), so
    # they get the bare look-ups: gettext and pgettext called without values are that.
    env.install_gettext_callables(
        i18n.gettext,
        lambda singular, plural, n: i18n.translations().ungettext(singular, plural, n),
        newstyle=True,
        pgettext=i18n.pgettext,
    )
    env.filters.update(FILTERS)
