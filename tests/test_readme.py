"""The README stays true: every setting documented, the demo logins and commands as they are."""

from __future__ import annotations

import re

from stations import ROOT
from warehouse.demo.base import DEMO_PASSWORD, DEMO_USERS

README = (ROOT / "README.md").read_text(encoding="utf-8")


def environment_variables() -> set[str]:
    """Every environment variable the config module and `make run` read."""
    config = (ROOT / "stations" / "config.py").read_text(encoding="utf-8")
    names = set(re.findall(r"environ(?:\.get)?[(\[]\s*\"([A-Z][A-Z0-9_]*)\"", config))
    run = (ROOT / "scripts" / "run.sh").read_text(encoding="utf-8")
    names |= set(re.findall(r"\$\{([A-Z][A-Z0-9_]*):-", run))
    return names


def test_every_environment_variable_is_in_the_configuration_table():
    names = environment_variables()
    assert {"DATABASE_URL", "REDIS_URL", "SECRET_KEY", "PORT"} <= names
    table_rows = set(re.findall(r"^\| `([A-Z][A-Z0-9_]*)` \|", README, re.MULTILINE))
    missing = names - table_rows
    assert not missing, f"add a row for each to the README's configuration table: {missing}"


def test_the_demo_logins_are_the_ones_the_demo_creates():
    assert f"`{DEMO_PASSWORD}`" in README
    for email, _name, role, partner in DEMO_USERS:
        assert re.search(rf"^\| {role.value} \| {re.escape(email)} \|", README, re.MULTILINE)
        if partner:
            assert partner in README


def test_the_two_setup_commands_exist():
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    for target in ("run", "test"):
        assert f"\nmake {target}\n" in README
        assert re.search(rf"^{target}:", makefile, re.MULTILINE)
