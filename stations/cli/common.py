"""What several commands share: finding a partner by the code given on the command line."""

from __future__ import annotations

import sys

import click

from warehouse.db import db
from warehouse.models import Partner


def find_partner(code: str | None) -> Partner | None:
    """The partner with `code`, or a click error naming the code."""
    if code is None:
        return None
    partner = db.session.query(Partner).filter_by(code=code).one_or_none()
    if partner is None:
        raise click.BadParameter(f"no partner with code {code!r}", param_hint="--partner")
    return partner


def write_chunks(chunks, out: str | None) -> None:
    """Write an export's text chunks to the file `out`, or to standard output."""
    if out is None:
        for chunk in chunks:
            sys.stdout.write(chunk)
        return
    with open(out, "w", encoding="utf-8", newline="") as handle:
        for chunk in chunks:
            handle.write(chunk)
