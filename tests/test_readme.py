"""The README stays true: every setting documented, the demo logins and commands as they are."""

from __future__ import annotations

import os
import re

import pytest

from demo.base import DEMO_PASSWORD, DEMO_USERS
from stations import ROOT, config

README = (ROOT / "README.md").read_text(encoding="utf-8")


class RecordingEnvironment(dict):
    """os.environ's stand-in that remembers every name the config asks for."""

    def __init__(self, values):
        super().__init__(values)
        self.asked: set[str] = set()

    def get(self, key, default=None):
        self.asked.add(key)
        return super().get(key, default)

    def __getitem__(self, key):
        self.asked.add(key)
        return super().__getitem__(key)

    def __contains__(self, key):
        self.asked.add(key)
        return super().__contains__(key)


def environment_variables(monkeypatch, tmp_path) -> set[str]:
    """Every environment variable `config.from_environment` and `make run` read."""
    recording = RecordingEnvironment({"RETURNYARD_INSTANCE": str(tmp_path)})
    monkeypatch.setattr(os, "environ", recording)
    config.from_environment()
    monkeypatch.undo()
    run = (ROOT / "scripts" / "run.sh").read_text(encoding="utf-8")
    return recording.asked | set(re.findall(r"\$\{([A-Z][A-Z0-9_]*):-", run))


def configuration_table(text: str) -> dict[str, list[str]]:
    """The rows of the one table under '## Configuration', by variable: it must be one table."""
    section = text.split("\n## Configuration\n", 1)[1].split("\n## ", 1)[0]
    lines = section.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("| variable |"))
    assert lines[start + 1].startswith("|---"), "the table needs its separator row"
    rows: dict[str, list[str]] = {}
    for line in lines[start + 2 :]:
        if not line.startswith("|"):
            break
        cells = [cell.strip() for cell in line.strip().strip("|").split(" | ")]
        assert len(cells) == 3, f"a row has variable | default | what it is: {line!r}"
        name = re.fullmatch(r"`([A-Z][A-Z0-9_]*)`", cells[0])
        assert name, f"the first cell names one variable in backticks: {line!r}"
        rows[name.group(1)] = cells
    return rows


def test_every_environment_variable_is_in_the_configuration_table(monkeypatch, tmp_path):
    names = environment_variables(monkeypatch, tmp_path)
    assert {"DATABASE_URL", "REDIS_URL", "SECRET_KEY", "PORT", "CASE_LINK_MAX_AGE"} <= names
    documented = configuration_table(README)
    missing = names - set(documented)
    assert not missing, f"add a row for each to the README's configuration table: {missing}"
    unknown = set(documented) - names
    assert not unknown, f"the README documents settings nothing reads: {unknown}"


def test_a_table_split_by_a_blank_line_is_caught():
    broken = README.replace("| `SMTP_TIMEOUT`", "\n| `SMTP_TIMEOUT`", 1)
    assert "SMTP_TIMEOUT" in configuration_table(README)
    assert "SMTP_TIMEOUT" not in configuration_table(broken)


def test_a_malformed_row_is_caught():
    broken = README.replace("| `SMTP_TIMEOUT` | `30` |", "| `SMTP_TIMEOUT` `30` |", 1)
    with pytest.raises(AssertionError, match=re.escape("variable | default")):
        configuration_table(broken)


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
