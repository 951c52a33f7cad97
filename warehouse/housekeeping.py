"""Housekeeping: rows that only matter for a while, removed once they no longer can."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from sqlalchemy.orm import Session

from warehouse.jobs import periodic
from warehouse.models import StationScan

# A station resends a scan within seconds or minutes (its queue survives only while the tab
# is open); two days covers a tab left open over a weekend shift change with room to spare.
SCAN_IDS_KEPT = dt.timedelta(days=2)


def forget_old_scan_ids(session: Session, *, now: dt.datetime) -> int:
    """Delete the station scan ids (and their stored answers) older than `SCAN_IDS_KEPT`.

    Returns how many were deleted. Uses the index on `created_at`.
    """
    result = session.execute(
        sa.delete(StationScan).where(StationScan.created_at < now - SCAN_IDS_KEPT)
    )
    return result.rowcount or 0


@periodic("forget_old_scan_ids", every=dt.timedelta(days=1))
def forget_old_scan_ids_job(job, payload: dict) -> str:
    """Daily: forget station scan ids no station can still resend."""
    return f"forgot {forget_old_scan_ids(job.session, now=job.now)} scan ids"
