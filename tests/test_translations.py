"""Every text in every language: the catalogs are complete, and no template text escapes `_()`.

English is the language of the msgids (the source catalog `translations/messages.pot`); the
seven other languages each have their catalog, which must translate every message the code and
the templates use today, extracted afresh here so a stale .pot cannot hide a new string.
"""

from __future__ import annotations

import re

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

from devtools import template_strings
from warehouse import i18n

ROOT = i18n.TRANSLATIONS.parent
KEYWORDS = {
    "_": None,
    "gettext": None,
    "ngettext": (1, 2),
    "pgettext": ((1, "c"), 2),
    "N_": None,
    "_l": None,
    "lazy_gettext": None,
    "in_language": (2,),
}
METHODS = [
    ("warehouse/**.py", "python"),
    ("stations/**.py", "python"),
    ("labels/**.py", "python"),
    ("templates/**.html", "jinja2"),
    ("templates/**.txt", "jinja2"),
]
PLACEHOLDER = re.compile(r"%\((\w+)\)s")


@pytest.fixture(scope="module")
def used_messages() -> dict[str, str]:
    """msgid → where it is used, extracted from the code and the templates as they are now."""
    found = {}
    for filename, _lineno, message, _comments, _context in extract_from_dir(
        str(ROOT), METHODS, {}, KEYWORDS
    ):
        ids = message if isinstance(message, tuple) else (message,)
        if ids[0]:
            found.setdefault(ids[0], filename)
    return found


def _catalog(language: str):
    with (i18n.TRANSLATIONS / language / "LC_MESSAGES" / "messages.po").open("rb") as source:
        return read_po(source, locale=language)


@pytest.mark.parametrize("language", [code for code in i18n.LANGUAGES if code != i18n.DEFAULT])
def test_every_message_in_use_is_translated(language, used_messages):
    catalog = _catalog(language)
    missing = []
    for msgid, where in sorted(used_messages.items()):
        message = catalog.get(msgid)
        strings = message.string if message is not None else ""
        strings = strings if isinstance(strings, tuple) else (strings,)
        if message is None or message.fuzzy or not all(strings):
            missing.append(f"{where}: {msgid!r}")
    assert not missing, f"{len(missing)} messages untranslated in {language}:\n" + "\n".join(
        missing[:40]
    )


@pytest.mark.parametrize("language", [code for code in i18n.LANGUAGES if code != i18n.DEFAULT])
def test_translations_keep_the_placeholders(language):
    """A translation that loses or renames a `%(name)s` would break the page it is on."""
    wrong = []
    for message in _catalog(language):
        if not message.id or not message.string:
            continue
        ids = message.id if isinstance(message.id, tuple) else (message.id,)
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        wanted = set(PLACEHOLDER.findall(ids[-1])) | (
            {"num"} if isinstance(message.id, tuple) else set()
        )
        for text in strings:
            got = set(PLACEHOLDER.findall(text))
            if got - wanted or (set(PLACEHOLDER.findall(ids[0])) - {"num"}) - got:
                wrong.append(f"{ids[0]!r} → {text!r}")
    assert not wrong, "\n".join(wrong)


def test_every_template_text_is_inside_gettext():
    """Words in a template outside `_()` would reach every reader in English."""
    findings = [
        str(finding)
        for path in template_strings.templates()
        for finding in template_strings.untranslated(path)
    ]
    assert not findings, "\n".join(findings)


def test_the_static_check_finds_text_outside_gettext(tmp_path):
    page = tmp_path / "page.html"
    page.write_text(
        '<h1>{{ _("Receive") }}</h1><p>Scan the parcel</p>'
        '<input placeholder="Type a code"><button title="{{ _(\'Print\') }}">{{ x }}</button>'
        "{{ 'Not delivered yet.' if late }}<script>var s = 'Do not flag me';</script>"
        "<p>Returnyard</p>",
        encoding="utf-8",
    )
    found = [f.text for f in template_strings.untranslated_source(page.read_text(), "page.html")]
    assert found == ["Scan the parcel", "placeholder=Type a code", "Not delivered yet."]


def test_a_missing_translation_falls_back_to_english():
    with i18n.reading("sv"):
        assert i18n.gettext("a message no catalog has %(x)s", x=1) == "a message no catalog has 1"
    with i18n.reading("pt"):
        assert i18n.current() == "en"


def test_every_gettext_call_in_python_fills_exactly_its_placeholders():
    """`_("… %(lpn)s …", lpn=…)`: a missing value raises, a spare one hides a typo."""
    import ast

    wrong = []
    for package in ("warehouse", "stations", "labels"):
        for path in sorted((ROOT / package).rglob("*.py")):
            tree = ast.parse(path.read_text(encoding="utf-8"))
            for node in ast.walk(tree):
                if not (
                    isinstance(node, ast.Call)
                    and isinstance(node.func, ast.Name)
                    and node.func.id in ("_", "gettext")
                    and node.args
                    and isinstance(node.args[0], ast.Constant)
                    and isinstance(node.args[0].value, str)
                ):
                    continue
                if any(keyword.arg is None for keyword in node.keywords):
                    continue  # **values: checked where they are built
                wanted = set(PLACEHOLDER.findall(node.args[0].value))
                given = {keyword.arg for keyword in node.keywords}
                if wanted != given:
                    wrong.append(f"{path.relative_to(ROOT)}:{node.lineno}: {wanted} vs {given}")
    assert not wrong, "\n".join(wrong)


def test_the_wrapper_puts_text_and_human_attributes_inside_gettext():
    wrapped = template_strings.wrap(
        '<p class="muted">Sold by {{ shipment.partner.name }}</p>'
        '<input placeholder="Type it"><script>alert("no")</script>'
    )
    assert wrapped == (
        '<p class="muted">{{ _("Sold by %(name)s", name=shipment.partner.name) }}</p>'
        '<input placeholder="{{ _(\'Type it\') }}"><script>alert("no")</script>'
    )
    assert template_strings.untranslated_source(wrapped, "page.html") == []


def _raised_in_english(source: str, errors: set[str]) -> list[tuple[int, str]]:
    """(line, error) for each domain error given words of its own instead of a `_()` call."""
    import ast

    def worded(text) -> bool:
        if isinstance(text, ast.IfExp):  # one text or another: both must be translated
            return worded(text.body) or worded(text.orelse)
        return isinstance(text, ast.Constant | ast.JoinedStr | ast.BinOp)

    def named(call: ast.Call) -> str:
        return call.func.id if isinstance(call.func, ast.Name) else getattr(call.func, "attr", "")

    tree = ast.parse(source)
    # A ValueError raised in a pydantic validator is a refusal too: the form shows its words.
    in_validators = {
        id(node)
        for function in ast.walk(tree)
        if isinstance(function, ast.FunctionDef)
        and any(
            isinstance(d, ast.Call) and named(d) in {"field_validator", "model_validator"}
            for d in function.decorator_list
        )
        for node in ast.walk(function)
    }
    found = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        name = named(node)
        refusal = name in errors or (name == "ValueError" and id(node) in in_validators)
        texts = node.args[:1] + [k.value for k in node.keywords if k.arg == "message"]
        if refusal and any(worded(text) for text in texts):
            found.append((node.lineno, name))
    return found


def _domain_errors() -> set[str]:
    import importlib

    from warehouse import errors
    from warehouse.money import MoneyError

    for path in sorted((ROOT / "warehouse").glob("*.py")):  # every error class defined
        importlib.import_module(f"warehouse.{path.stem}")

    def family(cls):
        return {cls.__name__} | {name for sub in cls.__subclasses__() for name in family(sub)}

    return family(errors.DomainError) | family(MoneyError)


def test_every_refusal_a_screen_can_show_is_inside_gettext():
    """A refusal from the domain reaches a screen in the reader's language; only the JSON API and
    the command line speak English (README, Languages), so only they may word their own."""
    english_only = ("stations/api/", "stations/cli/")
    errors = _domain_errors()
    findings = []
    for package in ("warehouse", "stations", "labels"):
        for path in sorted((ROOT / package).rglob("*.py")):
            where = path.relative_to(ROOT).as_posix()
            if where.startswith(english_only):
                continue
            for line, name in _raised_in_english(path.read_text(encoding="utf-8"), errors):
                findings.append(f"{where}:{line}: {name}(…) outside _()")
    assert not findings, "\n".join(findings)


def test_the_refusal_check_finds_words_outside_gettext():
    source = (
        'raise Conflict(f"{lpn} is sold")\n'
        'raise InvalidInput("say why", field="note")\n'
        'raise InvalidInput("%s is late" % day)\n'
        'raise NotFound(_("no unit %(lpn)s", lpn=lpn))\n'
        "raise Conflict(message)\n"
        'raise ValueError("internal")\n'
        'raise NotFound(_("gone") if late else "lost")\n'
        'raise Conflict(message="taken", field="lpn")\n'
        'raise NotFound(_("gone") if late else _("lost"))\n'
        "@field_validator('gtin')\n"
        "def _gtin(cls, value):\n"
        '    raise ValueError(f"{value} is wrong")\n'
        "def helper(value):\n"
        '    raise ValueError("internal")\n'
    )
    found = _raised_in_english(source, {"Conflict", "InvalidInput", "NotFound"})
    assert found == [
        (1, "Conflict"),
        (2, "InvalidInput"),
        (3, "InvalidInput"),
        (7, "NotFound"),
        (8, "Conflict"),
        (12, "ValueError"),
    ]
