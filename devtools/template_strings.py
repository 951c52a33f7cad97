"""Find the human text in our Jinja templates that is not inside `_()`.

`python -m devtools.template_strings` lists what is left; `--wrap FILE…` puts it inside `_()`
(once, when a template is written without it; read the diff). The test of the catalogs runs
`untranslated()` over every template, so a new string outside `_()` fails `make test`.

What counts as text: words between tags, the human attributes (`placeholder`, `title`,
`aria-label`, `alt`, and `value` of a button), and string literals in `{{ }}` / `{% %}` that read
like a sentence (a capital, then small letters). Not text: tags, CSS classes, `<script>` and
`<style>`, Jinja comments, codes and the allow-list of `ALLOWED` below.
"""

from __future__ import annotations

import argparse
import re
import sys
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TEMPLATES = ROOT / "templates"

# Text that reads the same in every language, with the reason it is not translated.
ALLOWED = {
    "Returnyard": "the brand",
    "Returnyard Returns": "the brand, on the return address",
    "Chart.js": "a library's name",
    "htmx": "a library's name",
    "ESPR": "the regulation's abbreviation, written so in every EU language",
    "CSV": "a file format",
    "PDF": "a file format",
    "JSON": "a file format",
    "ZPL": "a printer language",
    "EAN": "a barcode standard",
    "SMTP": "a protocol",
    "API": "a programming interface",
    "OK": "the same word in every language we write",
    "ok": "the same word in every language we write",
    "True": "a form value compared with, not text",
    "station": "the CSS class of a station's main element (block main_class)",
    "station station-wide": "the CSS classes of a station's main element (block main_class)",
}

HUMAN_ATTRIBUTES = ("placeholder", "title", "aria-label", "alt")
LETTER = re.compile(r"[^\W\d_]", re.UNICODE)
ENTITY = re.compile(r"&[#\w]+;")
SENTENCE_LITERAL = re.compile(r"^[A-Z][a-z]+[\s\S]*$")
LITERAL = re.compile(r"""(?P<q>['"])(?P<text>(?:(?!(?P=q))[^\\\n]|\\.)*)(?P=q)""")


@dataclass
class Token:
    kind: str  # text, var, block, comment, tag, raw
    source: str
    line: int


def tokens(source: str, html: bool = True) -> list[Token]:
    """The template cut into text, `{{ }}`, `{% %}`, `{# #}`, tags and raw script/style bodies."""
    out: list[Token] = []
    i, n = 0, len(source)
    text_start = 0

    def flush(upto: int) -> None:
        nonlocal text_start
        if upto > text_start:
            out.append(Token("text", source[text_start:upto], line_at(text_start)))
        text_start = upto

    def line_at(pos: int) -> int:
        return source.count("\n", 0, pos) + 1

    while i < n:
        two = source[i : i + 2]
        if two in ("{{", "{%", "{#"):
            closing = {"{{": "}}", "{%": "%}", "{#": "#}"}[two]
            end = source.find(closing, i + 2)
            end = n if end < 0 else end + 2
            flush(i)
            kind = {"{{": "var", "{%": "block", "{#": "comment"}[two]
            out.append(Token(kind, source[i:end], line_at(i)))
            i = text_start = end
            continue
        if html and source.startswith("<!--", i):
            end = source.find("-->", i)
            end = n if end < 0 else end + 3
            flush(i)
            out.append(Token("comment", source[i:end], line_at(i)))
            i = text_start = end
            continue
        if (
            html
            and source[i] == "<"
            and i + 1 < n
            and (source[i + 1].isalpha() or source[i + 1] in "/!")
        ):
            end = _tag_end(source, i)
            flush(i)
            tag = source[i:end]
            out.append(Token("tag", tag, line_at(i)))
            i = text_start = end
            name = re.match(r"<\s*(\w+)", tag)
            if name and name.group(1).lower() in ("script", "style") and not tag.endswith("/>"):
                close = source.lower().find(f"</{name.group(1).lower()}", i)
                close = n if close < 0 else close
                if close > i:
                    out.append(Token("raw", source[i:close], line_at(i)))
                i = text_start = close
            continue
        i += 1
    flush(n)
    return out


def _tag_end(source: str, start: int) -> int:
    i, n, quote = start + 1, len(source), None
    while i < n:
        if source.startswith(("{{", "{%", "{#"), i):
            closing = {"{{": "}}", "{%": "%}", "{#": "#}"}[source[i : i + 2]]
            end = source.find(closing, i + 2)
            i = n if end < 0 else end + 2
            continue
        ch = source[i]
        if quote:
            if ch == quote:
                quote = None
        elif ch in "\"'":
            quote = ch
        elif ch == ">":
            return i + 1
        i += 1
    return n


ATTRIBUTES_ONLY = re.compile(r"""^(\s*[\w:-]+="[^"]*")+\s*$""")


def has_words(text: str) -> bool:
    """Whether `text` (without entities) has letters a reader reads, beyond the allow-list and
    beyond attributes a macro writes into a tag (`aria-invalid="true"`)."""
    bare = ENTITY.sub(" ", text).strip()
    if not LETTER.search(bare) or ATTRIBUTES_ONLY.match(bare):
        return False
    return bare not in ALLOWED


def _literals(code: str) -> list[re.Match]:
    """String literals in a Jinja expression that read like a sentence, not inside `_()`."""
    found = []
    for match in LITERAL.finditer(code):
        text = match["text"]
        if not SENTENCE_LITERAL.match(text) or text in ALLOWED:
            continue
        before = code[: match.start()].rstrip()
        if before.endswith(("_(", "gettext(", "ngettext(", "_l(")) or re.search(
            r"(ngettext|_)\(\s*(['\"][^'\"]*['\"]\s*,\s*)$", before
        ):
            continue
        found.append(match)
    return found


@dataclass
class Finding:
    path: str
    line: int
    text: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.text!r}"


def untranslated(path: Path) -> list[Finding]:
    """The text in one template that a reader would see untranslated."""
    return untranslated_source(
        path.read_text(encoding="utf-8"), str(path.relative_to(ROOT)), path.suffix != ".txt"
    )


def untranslated_source(source: str, rel: str, html: bool = True) -> list[Finding]:
    """The text in a template's `source` that a reader would see untranslated."""
    findings = []
    run: list[Token] = []

    def end_run() -> None:
        text = "".join(t.source for t in run if t.kind == "text")
        if run and has_words(text):
            findings.append(Finding(rel, run[0].line, " ".join(text.split())[:80]))
        run.clear()

    for token in tokens(source, html):
        if token.kind == "text":
            run.append(token)
            continue
        if token.kind == "var" and "_(" not in token.source and "gettext(" not in token.source:
            run.append(token)
        else:
            end_run()
        if token.kind in ("var", "block"):
            for match in _literals(token.source):
                findings.append(Finding(rel, token.line, match["text"]))
        if token.kind == "tag":
            for name, value in _human_attributes(token.source):
                if has_words(re.sub(r"\{\{.*?\}\}|\{%.*?%\}", "", value)) and "_(" not in value:
                    findings.append(Finding(rel, token.line, f"{name}={value}"))
            for inner in re.findall(r"\{\{.*?\}\}|\{%.*?%\}", token.source, re.S):
                for match in _literals(inner):
                    findings.append(Finding(rel, token.line, match["text"]))
    end_run()
    return findings


_ATTRIBUTE = re.compile(
    r"""([\w:-]+)\s*=\s*(?:"((?:\{\{.*?\}\}|\{%.*?%\}|[^"])*)"|'([^']*)')""", re.S
)


def _is_human(name: str, tag: str) -> bool:
    """Whether attribute `name` of `tag` is read by people (a button's value is its label)."""
    if name in HUMAN_ATTRIBUTES:
        return True
    return name == "value" and bool(
        re.match(r"<\s*input\b", tag) and re.search(r"""type\s*=\s*["'](submit|button)["']""", tag)
    )


def _human_attributes(tag: str) -> list[tuple[str, str]]:
    out = []
    for match in _ATTRIBUTE.finditer(tag):
        name, value = match.group(1).lower(), match.group(2) or match.group(3) or ""
        if _is_human(name, tag):
            out.append((name, value))
    return out


# -- wrapping -----------------------------------------------------------------------------------


def _name_for(expression: str, used: dict[str, str]) -> str:
    core = expression.strip()
    match = re.match(r"([A-Za-z_][\w]*(?:\.[A-Za-z_]\w*|\[[^\]]*\])*)", core)
    base = "value"
    if match:
        parts = re.findall(r"[A-Za-z_]\w*", match.group(1))
        base = parts[-1] if parts else "value"
        if base in ("items", "get", "value", "label") and len(parts) > 1:
            base = parts[-2]
    base = re.sub(r"\W", "_", base) or "value"
    name, k = base, 2
    while name in used and used[name] != core:
        name, k = f"{base}{k}", k + 1
    used[name] = core
    return name


def _message_of(run: list[Token]) -> tuple[str, list[tuple[str, str]]]:
    used: dict[str, str] = {}
    parts, values = [], []
    for token in run:
        if token.kind == "text":
            parts.append(token.source.replace("%", "%%"))
        else:
            expression = _wrap_literals(token.source[2:-2].strip("-").strip())
            name = _name_for(expression, used)
            if (name, expression) not in values:
                values.append((name, expression))
            parts.append(f"%({name})s")
    message = " ".join("".join(parts).split())
    return message, values


def _call(message: str, values: list[tuple[str, str]], quote: str = '"') -> str:
    """`{{ _("message", name=expression, ...) }}`, its msgid in `quote`s."""
    quoted = quote + message.replace("\\", "\\\\").replace(quote, "\\" + quote) + quote
    args = "".join(
        f", {name}=({expr})" if " " in expr or "|" in expr else f", {name}={expr}"
        for name, expr in values
    )
    return "{{ _(" + quoted + args + ") }}"


def wrap(source: str, html: bool = True) -> str:
    """`source` with its text runs, human attributes and sentence literals inside `_()`."""
    out: list[str] = []
    run: list[Token] = []

    def end_run() -> None:
        if not run:
            return
        text = "".join(t.source for t in run if t.kind == "text")
        whole = "".join(t.source for t in run)
        if not has_words(text):
            out.append(
                "".join(_wrap_literals(t.source) if t.kind == "var" else t.source for t in run)
            )
        else:
            lead = whole[: len(whole) - len(whole.lstrip())]
            trail = whole[len(whole.rstrip()) :]
            trimmed = _trim(run)
            message, values = _message_of(trimmed)
            out.append(lead + _call(message, values) + trail)
        run.clear()

    for token in tokens(source, html):
        if token.kind == "text" or (
            token.kind == "var" and "_(" not in token.source and "gettext(" not in token.source
        ):
            run.append(token)
            continue
        end_run()
        if token.kind in ("var", "block"):
            out.append(_wrap_literals(token.source))
        elif token.kind == "tag":
            out.append(_wrap_tag(token.source))
        else:
            out.append(token.source)
    end_run()
    return "".join(out)


def _trim(run: list[Token]) -> list[Token]:
    trimmed = [Token(t.kind, t.source, t.line) for t in run]
    if trimmed and trimmed[0].kind == "text":
        trimmed[0].source = trimmed[0].source.lstrip()
    if trimmed and trimmed[-1].kind == "text":
        trimmed[-1].source = trimmed[-1].source.rstrip()
    return trimmed


def _wrap_literals(code: str) -> str:
    if code.startswith("{%") and re.match(
        r"\{%-?\s*(if|elif|for|block|extends|include|import|from|macro)\b", code
    ):
        return code
    result, last = [], 0
    for match in _literals(code):
        before = code[: match.start()]
        if re.search(r"(==|!=|\bin)\s*$", before) or re.search(r"^\s*(==|!=)", code[match.end() :]):
            continue
        result.append(code[last : match.start()])
        result.append(f"_({match.group(0)})")
        last = match.end()
    result.append(code[last:])
    return "".join(result)


def _wrap_tag(tag: str) -> str:
    def replace(match: re.Match) -> str:
        name = match.group(1).lower()
        value = match.group(2) if match.group(2) is not None else match.group(3)
        if not _is_human(name, tag):
            return _wrap_literals_in(match.group(0))
        if "_(" in value or not has_words(re.sub(r"\{\{.*?\}\}|\{%.*?%\}", "", value)):
            return match.group(0)
        if "{%" in value:
            return match.group(0)
        run = tokens(value, html=False)
        message, values = _message_of(_trim(run))
        return match.group(1) + '="' + _call(message, values, quote="'") + '"'

    return _ATTRIBUTE.sub(replace, tag)


def _wrap_literals_in(text: str) -> str:
    return re.sub(r"\{\{.*?\}\}|\{%.*?%\}", lambda m: _wrap_literals(m.group(0)), text, flags=re.S)


def templates() -> list[Path]:
    """Every template we ship."""
    return sorted(p for p in TEMPLATES.rglob("*") if p.suffix in (".html", ".txt"))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--wrap", nargs="*", help="templates to rewrite with _()")
    args = parser.parse_args(argv)
    if args.wrap is not None:
        for name in args.wrap or [str(p) for p in templates()]:
            path = Path(name)
            source = path.read_text(encoding="utf-8")
            wrapped = wrap(source, html=path.suffix != ".txt")
            if wrapped != source:
                path.write_text(wrapped, encoding="utf-8")
                print(f"wrapped {path}")
        return 0
    findings = [f for path in templates() for f in untranslated(path)]
    for finding in findings:
        print(finding)
    return 1 if findings else 0


if __name__ == "__main__":
    sys.exit(main())
