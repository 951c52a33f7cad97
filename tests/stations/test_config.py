"""Settings: read once, in `stations.config`, with no second default anywhere else."""

from __future__ import annotations

import re

from stations import ROOT, config


def test_public_url_follows_the_served_port_when_unset(monkeypatch, tmp_path):
    monkeypatch.setenv("RETURNYARD_INSTANCE", str(tmp_path))
    monkeypatch.delenv("PUBLIC_URL", raising=False)
    monkeypatch.setenv("PORT", "8102")
    assert config.from_environment()["PUBLIC_URL"] == "http://127.0.0.1:8102"
    monkeypatch.setenv("PUBLIC_URL", "https://returns.example.com")
    assert config.from_environment()["PUBLIC_URL"] == "https://returns.example.com"


def test_no_code_carries_a_default_of_its_own_for_a_setting():
    names = set(config.from_environment())
    pattern = re.compile(r"""(?:config|settings)\.get\(\s*["']([A-Z][A-Z0-9_]*)["']""")
    offenders = []
    for package in ("stations", "warehouse", "labels", "demo"):
        for path in (ROOT / package).rglob("*.py"):
            if path == ROOT / "stations" / "config.py":
                continue
            for name in pattern.findall(path.read_text(encoding="utf-8")):
                if name in names:
                    offenders.append(f"{path.relative_to(ROOT)}: {name}")
    assert offenders == [], "read settings as config[NAME]; the default lives in config.py"


def test_jobs_queued_under_the_old_entry_point_still_run():
    from rq.utils import import_attribute

    from stations.worker import run_job
    from warehouse.relay import ENTRY_POINT

    assert import_attribute("stations.background.run_job") is run_job
    assert import_attribute(ENTRY_POINT) is run_job
