"""Demo data, stage 3: graded units, refund decisions and open partner cases.

Runs after `returns.py` and works on the units it received, through the real `grade_unit` (so
decisions, cases, ledger entries, events and queued mails are exactly what the station makes):

- about a third of the received units stay `received`, waiting at the grading station;
- the demo partner logins (VOLT, NORD) get open cases: partial refunds for used or marked items,
  a photo on some of them;
- the other partners' units are graded by the usual mix; some of their cases are already decided,
  so statements and the supervisors' case list have something to show.
"""

from __future__ import annotations

import datetime as dt
import io
import random
from pathlib import Path

from flask import current_app
from sqlalchemy.orm import Session

from stations.screens.photos import photo_dir
from warehouse import cases, photos
from warehouse.checklists import checklist_for
from warehouse.events import Actor
from warehouse.grading import grade_unit
from warehouse.models import (
    GUARANTEE_REASONS,
    Case,
    CaseStatus,
    Grade,
    Partner,
    Unit,
    UnitStatus,
    User,
)

OPERATOR_EMAIL = "operator@returnyard.example"
DEMO_PARTNERS = ("VOLT", "NORD")
WAITING_SHARE = 0.35
GRADE_MIX = (
    (Grade.NEW, 30),
    (Grade.OPENED, 25),
    (Grade.USED, 20),
    (Grade.LIGHT_DAMAGE, 10),
    (Grade.HEAVY_DAMAGE, 5),
    (Grade.DEFECTIVE, 10),
)
NOTES = {
    Grade.USED: "Signs of wear, fully working.",
    Grade.LIGHT_DAMAGE: "Small scratch on the front.",
    Grade.HEAVY_DAMAGE: "Cracked housing, still works.",
    Grade.DEFECTIVE: "Does not power on.",
}


def _app_settings() -> tuple[cases.CaseLinks, Path]:
    """Links signed with the app's secret (so demo case mails work) and the photo folder."""
    return cases.CaseLinks.from_settings(current_app.config), photo_dir()


def _photo(rng: random.Random, grade: Grade) -> bytes:
    """A small stand-in 'camera photo': a tinted frame with a mark where the damage is."""
    from PIL import Image, ImageDraw

    image = Image.new("RGB", (640, 480), (rng.randint(180, 230),) * 3)
    draw = ImageDraw.Draw(image)
    draw.rectangle((80, 60, 560, 420), outline=(60, 60, 60), width=6)
    x, y = rng.randint(140, 480), rng.randint(120, 360)
    draw.ellipse((x - 30, y - 30, x + 30, y + 30), outline=(200, 30, 30), width=5)
    draw.text((90, 430), f"grade: {grade.value}", fill=(20, 20, 20))
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=80)
    return buffer.getvalue()


def _grade_for(rng: random.Random, unit: Unit, demo_cases: dict[int, int]) -> Grade:
    reason = unit.return_line.reason
    code = unit.partner.code
    if code in DEMO_PARTNERS and demo_cases.get(unit.partner_id, 0) < 3:
        # The demo logins should find cases to decide: partial refunds.
        return rng.choice((Grade.USED, Grade.LIGHT_DAMAGE))
    if reason in GUARANTEE_REASONS:
        return rng.choice((Grade.DEFECTIVE, Grade.DEFECTIVE, Grade.HEAVY_DAMAGE, Grade.OPENED))
    grades, weights = zip(*GRADE_MIX, strict=True)
    return rng.choices(grades, weights)[0]


def load(session: Session, rng: random.Random, today: dt.date) -> None:
    """Grade most received units; leave some waiting; open cases for the demo partners."""
    units = (
        session.query(Unit)
        .filter(
            Unit.status == UnitStatus.RECEIVED,
            Unit.return_line_id.is_not(None),
            Unit.exception.is_(None),
        )
        .order_by(Unit.id)
        .all()
    )
    if not units:
        return
    operator = session.query(User).filter_by(email=OPERATOR_EMAIL).one_or_none()
    actor = Actor(
        label=operator.email if operator else "demo",
        user_id=operator.id if operator else None,
        station="grade",
        site_id=operator.site_id if operator else None,
    )
    links, photo_dir = _app_settings()
    # Demo partners' units first, so each demo login gets its cases; the rest in random order.
    demo_ids = {p.id for p in session.query(Partner).filter(Partner.code.in_(DEMO_PARTNERS))}
    ordered = [u for u in units if u.partner_id in demo_ids]
    others = [u for u in units if u.partner_id not in demo_ids]
    rng.shuffle(others)
    ordered += others
    waiting = max(4, int(len(units) * WAITING_SHARE))
    to_grade = ordered[: max(0, len(ordered) - waiting)]

    demo_cases: dict[int, int] = {}
    for unit in to_grade:
        grade = _grade_for(rng, unit, demo_cases)
        items = checklist_for(unit.product.category if unit.product else None)
        ticked = {item for item in items if item != "accessories_complete" or rng.random() > 0.1}
        if grade not in (Grade.NEW, Grade.OPENED):
            photos.store_photo(
                session,
                actor,
                unit,
                _photo(rng, grade),
                directory=photo_dir,
                max_bytes=current_app.config["PHOTO_MAX_BYTES"],
            )
        settlement = grade_unit(
            session,
            actor,
            unit.id,
            grade=grade,
            checklist=ticked,
            notes=NOTES.get(grade, ""),
            links=links,
            today=today,
        )
        # Graded on the day the parcel came in, a few hours after receiving.
        unit.graded_at = unit.received_at + dt.timedelta(hours=rng.randint(1, 5))
        if settlement.case is not None:
            settlement.case.opened_at = unit.graded_at
            demo_cases[unit.partner_id] = demo_cases.get(unit.partner_id, 0) + 1
    session.flush()

    # Some of the other partners' cases are already answered, through the portal.
    answered = (
        session.query(Case)
        .filter(Case.status == CaseStatus.OPEN, Case.partner_id.not_in(demo_ids))
        .order_by(Case.id)
        .all()
    )
    for case in answered[::2]:
        partner = Actor(label=f"{case.partner.contact_email} (portal)", partner_id=case.partner_id)
        decided_on = min(today, case.opened_at.date() + dt.timedelta(days=rng.randint(0, 2)))
        if rng.random() < 0.7:
            cases.decide_case(
                session, partner, case.id, action="approve", via="portal", today=decided_on
            )
        else:
            amount = case.proposed_minor - case.proposed_minor // 10
            cases.decide_case(
                session,
                partner,
                case.id,
                action="adjust",
                amount_minor=amount,
                reason="Packaging missing as well; 10 % less.",
                via="portal",
                today=decided_on,
            )
    session.flush()
