"""The grounds of a refund decision, written in English once and retold in the reader's language.

A case keeps its grounds as English sentences (`Case.grounds`, shown by the API as they are).
Each sentence is made here by `say(key, **values)` from one of `SENTENCES`; `retell(text)` finds
which sentence a stored text is and says it again in the reader's language (`warehouse.i18n`),
values included: a grade, a reason or a remedy is translated too, a product title or a
percentage is kept. A text that is no known sentence (older data) is shown as it was stored.
"""

from __future__ import annotations

import functools
import re

from warehouse import i18n
from warehouse.i18n import N_

SENTENCES = {
    "late_refused": N_(
        "returned after the return window; the partner's policy refuses late returns"
    ),
    "late_consult": N_("returned after the return window: the partner decides"),
    "late_goodwill": N_("returned after the return window: accepted as goodwill"),
    "guarantee": N_("legal guarantee (%(reason)s): full price"),
    "full_price": N_("%(grade)s: full price"),
    "diminished": N_("diminished value, %(grade)s: -%(percent)s"),
    "no_deduction": N_("no deduction set for %(grade)s: partner decides"),
    "defective_mind": N_("does not work after a change-of-mind return: partner decides"),
    "defective_mind_proposed": N_(
        "does not work after a change-of-mind return: partner decides (proposed -%(percent)s)"
    ),
    "accessories": N_("accessories incomplete: -%(percent)s"),
    "accessories_consult": N_("accessories incomplete: partner decides"),
    "consult_mode": N_("the partner approves every refund"),
    "asks_remedy": N_(
        "the customer asks for a %(remedy)s: approving grants it instead of a refund"
    ),
    "remedy_granted": N_("%(remedy)s granted"),
    "remedy_refused": N_("%(why)s; the refund rules apply"),
    "no_remedy_guarantee": N_("no %(remedy)s: the guarantee does not cover it"),
    "no_remedy_partial": N_("no %(remedy)s: it is not refunded in full as it came back"),
    "no_remedy_stock": N_("no %(remedy)s: %(product)s is out of stock"),
    # What grading did with the refund (the station says it after the grade).
    "decided_already": N_("refund already decided"),
    "not_in_order": N_("not in the order: no refund"),
    "case_updated": N_("case updated with the new grade"),
    "approved": N_("refund approved"),
    "rejected": N_("refund rejected"),
    "case_opened": N_("case opened for the partner"),
}

# How a code appears inside an English sentence, and what it is in the reader's words.
WORDS = {
    "grade": {
        "new": N_("new"),
        "opened": N_("opened"),
        "used": N_("used"),
        "light damage": N_("light damage"),
        "heavy damage": N_("heavy damage"),
        "defective": N_("defective"),
    },
    "reason": {
        "changed mind": N_("changed mind"),
        "wrong size": N_("wrong size"),
        "not as described": N_("not as described"),
        "defective": N_("defective"),
        "damaged on arrival": N_("damaged on arrival"),
        "wrong item sent": N_("wrong item sent"),
        "other": N_("other"),
    },
    "remedy": {
        "refund": N_("refund"),
        "repair": N_("repair"),
        "replacement": N_("replacement"),
        "exchange": N_("exchange"),
    },
}


def say(key: str, **values: str) -> str:
    """The English sentence `key` with `values` (codes as words: 'light damage', 'repair')."""
    return SENTENCES[key] % values if values else SENTENCES[key]


def word(kind: str, code: str) -> str:
    """How a code (`light_damage`) is written inside a sentence (`light damage`)."""
    return code.replace("_", " ")


@functools.cache
def _patterns() -> list[tuple[re.Pattern, str]]:
    patterns = []
    for message in SENTENCES.values():
        regex = re.escape(message)
        regex = re.sub(r"%\\\(([a-z]+)\\\)s", r"(?P<\1>[^;]+?)", regex)
        patterns.append((re.compile(regex + r"\Z"), message))
    # Longer sentences first, so a general one ('%(why)s; …') does not swallow a special one.
    return sorted(patterns, key=lambda pattern: -len(pattern[1]))


def retell(text: str) -> str:
    """A stored ground in the reader's language (as stored if it is no known sentence).

    Grounds joined with '; ' (a decision's reason) are retold one by one."""
    text = str(text)
    if i18n.current() == i18n.DEFAULT:
        return text
    parts, told, start = text.split("; "), [], 0
    while start < len(parts):
        # The longest run of parts that is one sentence (a sentence may hold '; ' itself).
        for end in range(len(parts), start, -1):
            sentence = _retell_one("; ".join(parts[start:end]))
            if sentence is not None:
                told.append(sentence)
                start = end
                break
        else:
            told.append(parts[start])
            start += 1
    return "; ".join(told)


def _retell_one(text: str) -> str | None:
    for pattern, message in _patterns():
        match = pattern.match(text)
        if match is None:
            continue
        values = {}
        for name, value in match.groupdict().items():
            known = WORDS.get(name, {}).get(value)
            if known is not None:
                values[name] = i18n.gettext(known)
            elif name == "why":
                values[name] = retell(value)
            else:
                values[name] = value
        return i18n.gettext(message, **values)
    return None
