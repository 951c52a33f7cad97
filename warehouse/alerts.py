"""The hourly refund-due alert: each site's supervisors get the returns whose refund is due
within three days (or overdue) and not decided, each return at most once a site day."""

from __future__ import annotations

import datetime as dt
import hashlib

import sqlalchemy as sa
from sqlalchemy.orm import Session

from warehouse.deadlines import local_date
from warehouse.figures import refund_due_risk
from warehouse.jobs import periodic
from warehouse.mail import queue_mail
from warehouse.models import ReturnRequest, Role, Site, User


def alert_refund_risk(session: Session, *, now: dt.datetime) -> int:
    """Mail every site's supervisors the at-risk returns not yet mailed today; how many
    returns were mailed."""
    mailed = 0
    for site in session.scalars(sa.select(Site).order_by(Site.id)).all():
        today = local_date(now, site.timezone)
        risk = refund_due_risk(session, site_id=site.id, today=today)
        returns = {row.return_id for row in risk}
        if not returns:
            continue
        fresh = set(
            session.scalars(
                sa.select(ReturnRequest.id).where(
                    ReturnRequest.id.in_(returns),
                    sa.or_(
                        ReturnRequest.refund_alerted_on.is_(None),
                        ReturnRequest.refund_alerted_on != today,
                    ),
                )
            )
        )
        if not fresh:
            continue
        rows = [row for row in risk if row.return_id in fresh]
        supervisors = session.scalars(
            sa.select(User).where(
                User.role == Role.SUPERVISOR, User.site_id == site.id, User.active.is_(True)
            )
        ).all()
        batch = hashlib.sha256(",".join(map(str, sorted(fresh))).encode()).hexdigest()[:12]
        for user in supervisors:
            queue_mail(
                session,
                template="refund_due_alert_supervisor",
                to=user.email,
                language=user.language,
                context={
                    "site": site.name,
                    "count": len(fresh),
                    "rows": [
                        {
                            "rma": row.rma,
                            "lpn": row.lpn,
                            "refund_due_on": row.refund_due_on.isoformat(),
                            "stage": row.stage,
                        }
                        for row in rows
                    ],
                },
                key=f"refund-due-alert:{site.id}:{today.isoformat()}:{batch}:{user.id}",
            )
        session.execute(
            sa.update(ReturnRequest)
            .where(ReturnRequest.id.in_(fresh))
            .values(refund_alerted_on=today)
        )
        mailed += len(fresh)
    return mailed


@periodic("refund_due_alerts", every=dt.timedelta(hours=1))
def refund_due_alerts(job, payload: dict) -> str:
    """Hourly: supervisors hear of refunds at risk, each return once a day."""
    return f"{alert_refund_risk(job.session, now=job.now)} returns at risk mailed"
