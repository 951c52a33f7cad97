"""The partner's one-click decision links from the case email.

GET shows the case and the one form of the link's action (mail scanners that prefetch links must
not decide anything); POST decides. A tampered, expired or used link is refused with a page that
says which, and nothing changes.
"""

from __future__ import annotations

from flask import Blueprint, Response, abort, current_app, render_template, request, url_for

from stations import languages
from stations.screens.photos import photo_dir
from stations.security import secret_link_page
from warehouse import cases, photos
from warehouse.cases import Action, CaseLinks, LinkRefused
from warehouse.checklists import CHECKLIST_LABELS
from warehouse.db import db, utcnow
from warehouse.deadlines import local_date
from warehouse.errors import DomainError
from warehouse.events import Actor
from warehouse.models import Case
from warehouse.vocabulary import GRADE_LABELS

bp = Blueprint("caselinks", __name__, url_prefix="/case-link")


def _claimed(token: str):
    """The link's claim and its case; the page is in the partner's language from here on."""
    claim = CaseLinks.from_settings(current_app.config).read(token)
    pointed_at = db.session.get(Case, claim.case_id)
    if pointed_at is not None:  # a used link is refused in the partner's language too
        languages.for_partner(pointed_at.partner.language)
    return claim, cases.claim_case(db.session, claim)


def _refused(error: DomainError):
    db.session.rollback()
    return render_template("caselinks/refused.html", message=error.message), error.status


def _page(token, claim, case, *, error=None, form=None, status=200):
    return (
        render_template(
            "caselinks/decide.html",
            token=token,
            action=claim.action.value,
            case=case,
            unit=case.unit,
            photos=photos.photos_of(db.session, case.unit_id),
            labels=GRADE_LABELS,
            checklist_labels=CHECKLIST_LABELS,
            error=error,
            form=form or {},
            photo_url=lambda photo: url_for("caselinks.photo", token=token, photo_id=photo.id),
            post_url=lambda _action: url_for("caselinks.decide", token=token),
        ),
        status,
    )


@bp.get("/<token>")
@secret_link_page
def show(token: str):
    """The case and the one form of the link's action; looking decides nothing."""
    try:
        claim, case = _claimed(token)
    except LinkRefused as error:
        return _refused(error)
    return _page(token, claim, case)


@bp.post("/<token>")
@secret_link_page
def decide(token: str):
    """Decide the case with the link's action (amount and reason from the form)."""
    try:
        claim, case = _claimed(token)
    except LinkRefused as error:
        return _refused(error)
    partner = case.partner
    actor = Actor(label=f"{partner.contact_email} (email link)", partner_id=partner.id)
    try:
        amount = None
        if claim.action == Action.ADJUST:
            amount = cases.parse_decision_amount(request.form.get("amount"), case.currency)
        cases.decide_case(
            db.session,
            actor,
            case.id,
            action=claim.action,
            amount_minor=amount,
            reason=request.form.get("reason", ""),
            via="link",
            nonce=claim.nonce,
            today=local_date(utcnow(), case.unit.site.timezone),
        )
        db.session.commit()
    except LinkRefused as error:
        return _refused(error)
    except DomainError as error:
        db.session.rollback()
        case = cases.get_case(db.session, claim.case_id)
        return _page(token, claim, case, error=error, form=request.form, status=error.status)
    return render_template("caselinks/done.html", case=case)


@bp.get("/<token>/photos/<int:photo_id>")
@secret_link_page
def photo(token: str, photo_id: int):
    """A photo of the case's unit, for whoever holds a valid link of the case."""
    try:
        _claim, case = _claimed(token)
    except LinkRefused:
        abort(404)
    found = photos.get_photo(db.session, photo_id, partner_id=case.partner_id)
    if found.unit_id != case.unit_id:
        abort(404)
    path = photos.photo_path(photo_dir(), found, thumb=True)
    response = Response(path.read_bytes(), mimetype="image/jpeg")
    response.headers["Cache-Control"] = "private, no-store"
    return response
