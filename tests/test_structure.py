"""The shape of the code: no import cycles, the routes as stored, one ordered migration chain."""

from __future__ import annotations

import ast
from pathlib import Path

from alembic.config import Config
from alembic.script import ScriptDirectory

from stations import ROOT

PACKAGES = ("stations", "warehouse", "labels", "demo", "devtools")
ROUTES = Path(__file__).parent / "stations" / "routes.txt"


def project_modules() -> dict[str, Path]:
    """Every module of the project's own packages (plus wsgi), by dotted name."""
    modules = {"wsgi": ROOT / "wsgi.py"}
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            parts = path.relative_to(ROOT).with_suffix("").parts
            if parts[-1] == "__init__":
                parts = parts[:-1]
            modules[".".join(parts)] = path
    return modules


def import_graph() -> dict[str, set[str]]:
    """module → the project modules it imports (anywhere in it, lazy imports included)."""
    modules = project_modules()

    def owner(name: str) -> str | None:
        while name and name not in modules:
            name = name.rpartition(".")[0]
        return name or None

    graph: dict[str, set[str]] = {name: set() for name in modules}
    for name, path in modules.items():
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            targets: list[str] = []
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    parts = package.split(".")[: len(package.split(".")) - node.level + 1]
                    base = ".".join([*parts, base] if base else parts)
                targets = [
                    f"{base}.{alias.name}" if f"{base}.{alias.name}" in modules else base
                    for alias in node.names
                ]
            for target in targets:
                found = owner(target)
                if found and found != name:
                    graph[name].add(found)
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected groups of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for target in sorted(graph[node]):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            group = []
            while True:
                member = stack.pop()
                group.append(member)
                if member == node:
                    break
            if len(group) > 1:
                found.append(sorted(group))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def test_no_import_cycles_in_the_project():
    assert cycles(import_graph()) == []


def test_the_cycle_finder_finds_a_cycle():
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def test_the_domain_does_not_know_the_web_side():
    graph = import_graph()
    for name, targets in graph.items():
        if name.startswith("warehouse"):
            assert not any(t.startswith(("stations", "demo", "devtools")) for t in targets), name


def served_routes(app) -> list[str]:
    """'METHODS RULE ENDPOINT' per route, sorted: what `flask --app wsgi routes` lists."""
    return sorted(
        f"{','.join(sorted(rule.methods - {'HEAD', 'OPTIONS'}))} {rule.rule} {rule.endpoint}"
        for rule in app.url_map.iter_rules()
    )


def test_the_routes_are_the_stored_list(app):
    stored = ROUTES.read_text(encoding="utf-8").splitlines()
    assert served_routes(app) == stored, f"routes changed: update {ROUTES.name} on purpose"


def test_one_migration_chain_in_file_name_order():
    config = Config(str(ROOT / "migrations" / "alembic.ini"))
    config.set_main_option("script_location", str(ROOT / "migrations"))
    script = ScriptDirectory.from_config(config)
    assert len(script.get_heads()) == 1
    chain = [revision.revision for revision in script.walk_revisions("base", "heads")][::-1]
    files = sorted(p.name for p in (ROOT / "migrations" / "versions").glob("*.py"))
    assert [name.split("_", 1)[0] for name in files] == chain, "file names sort in chain order"
    assert chain == [f"{n:04d}" for n in range(1, len(chain) + 1)], "revision ids are 0001, 0002…"
