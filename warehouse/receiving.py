"""Receiving parcels (SPEC 3.2 and 5): scan the parcel, check the deadline, confirm each unit."""

from __future__ import annotations

from warehouse.deadlines import Assessment, Verdict, assess, local_date
from warehouse.models import ReturnLine, ReturnRequest

# Worst first: the parcel's verdict is the worst of its lines'.
_SEVERITY = {Verdict.OUT_OF_WINDOW: 0, Verdict.GRACE: 1, Verdict.IN_TIME: 2, Verdict.GUARANTEE: 3}


def line_verdict(rma: ReturnRequest, line: ReturnLine) -> Assessment:
    """The deadline verdict of one line: windows from the shipment's delivery, notice on the
    announcement (or, for an unannounced parcel, the day it arrived)."""
    timezone = rma.site.timezone
    delivered = rma.shipment.delivered_at
    return assess(
        reason=line.reason,
        delivered_on=local_date(delivered, timezone) if delivered else None,
        notice_on=rma.announced_on,
        received_on=rma.received_on,
        announced_on=rma.announced_on,
        window_days=rma.partner.window_days,
        grace_days=rma.partner.grace_days,
        informed=rma.order.withdrawal_informed,
    )


def verdict_of(rma: ReturnRequest) -> Assessment:
    """The parcel's verdict: the worst of its lines' (an RMA always has at least one line)."""
    return min((line_verdict(rma, line) for line in rma.lines), key=lambda a: _SEVERITY[a.verdict])
