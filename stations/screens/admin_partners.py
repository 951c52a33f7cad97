"""Partners (admins): the list, onboarding with an invitation of the first user, editing every
field but the code (deactivating too), and the partner's history of changes."""

from __future__ import annotations

import sqlalchemy as sa
from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for

from stations.auth import current_actor, roles_required
from warehouse import accounts, partners
from warehouse.db import db
from warehouse.errors import DomainError, InvalidInput
from warehouse.i18n import gettext as _
from warehouse.i18n import lazy_gettext as _l
from warehouse.models import (
    PARTNER_CURRENCIES,
    ApprovalMode,
    DefectiveHandling,
    Destination,
    Grade,
    OutOfWindowPolicy,
    Partner,
    Role,
)
from warehouse.policy import DEDUCTION_KEYS, DEDUCTION_LABELS, bp_to_percent, percent_to_bp
from warehouse.reference import LANGUAGES
from warehouse.vocabulary import GRADE_LABELS

bp = Blueprint("admin_partners", __name__, url_prefix="/admin/partners")

# The form's choices: (value, label); the labels are lazy, drawn in the reader's language.
MODE_LABELS = {
    ApprovalMode.AUTO: _l("auto"),
    ApprovalMode.CONSULT: _l("consult"),
}
DESTINATION_LABELS = {
    Destination.WAREHOUSE: _l("warehouse"),
    Destination.PARTNER: _l("partner"),
}
DEFECTIVE_LABELS = {
    DefectiveHandling.DESTROY: _l("destroy"),
    DefectiveHandling.RETURN_TO_VENDOR: _l("return to vendor"),
}
OUT_OF_WINDOW_LABELS = {
    OutOfWindowPolicy.REJECT: _l("reject"),
    OutOfWindowPolicy.CONSULT: _l("consult"),
    OutOfWindowPolicy.GOODWILL: _l("goodwill"),
}


def _labelled(enum_cls, labels: dict) -> list:
    """(value, label) of each member; a member without a label shows its code."""
    return [(m.value, labels.get(m, m.value.replace("_", " "))) for m in enum_cls]


CHOICES = {
    "approval_mode": _labelled(ApprovalMode, MODE_LABELS),
    "destination": _labelled(Destination, DESTINATION_LABELS),
    "defective_handling": _labelled(DefectiveHandling, DEFECTIVE_LABELS),
    "out_of_window": _labelled(OutOfWindowPolicy, OUT_OF_WINDOW_LABELS),
    "rejected_returns": [
        ("send_back", _l("send back to the customer")),
        ("keep", _l("kept by the partner")),
    ],
    "refund_paid_by": [("partner", _l("the partner")), ("marketplace", _l("the marketplace"))],
}
DISCOUNT_LABELS = {
    key: GRADE_LABELS.get(Grade(key), key.replace("_", " ").capitalize())
    for key in partners.DISCOUNT_KEYS
}


def _percent(form, field: str) -> int | None:
    raw = (form.get(field) or "").strip()
    if not raw:
        return None
    try:
        return percent_to_bp(raw)
    except ValueError:
        raise InvalidInput(
            _("%(value)s is not a percentage like 10 or 12.5", value=repr(raw)), field=field
        ) from None


def fields_from(form) -> dict:
    """The `PartnerFields` dict of the partner form (percentages become basis points)."""
    data = {
        name: (form.get(name) or "").strip()
        for name in (
            "code",
            "name",
            "contact_email",
            "language",
            "approval_mode",
            "destination",
            "address",
            "defective_handling",
            "out_of_window",
            "rejected_returns",
            "window_days",
            "grace_days",
            "consult_escalate_days",
            "refund_paid_by",
        )
    }
    data["commission_rate_bp"] = _percent(form, "commission")
    if data["commission_rate_bp"] is None:
        raise InvalidInput(_("give the commission, 5 to 20 %"), field="commission")
    data["currencies"] = form.getlist("currencies")
    data["refund_deduction_bp"] = {
        key: bp for key in DEDUCTION_KEYS if (bp := _percent(form, f"deduction_{key}")) is not None
    }
    data["resale_discount_bp"] = {
        key: bp
        for key in partners.DISCOUNT_KEYS
        if (bp := _percent(form, f"discount_{key}")) is not None
    }
    data["active"] = form.get("active") == "on"
    return data


def form_of(partner: Partner | None) -> dict:
    """The partner form's values, for a partner or a new one."""
    if partner is None:
        model = partners.PartnerFields.model_fields
        form = {
            name: str(info.default)
            for name, info in model.items()
            if info.default_factory is None and not info.is_required() and info.default is not None
        }
        form.update(commission="10", currencies=list(PARTNER_CURRENCIES), active=True)
        for key, bp in model["resale_discount_bp"].default_factory().items():
            form[f"discount_{key}"] = bp_to_percent(bp)
        return form
    fields = partners.snapshot(partner)
    form = {key: ("" if value is None else str(value)) for key, value in fields.items()}
    form["commission"] = bp_to_percent(partner.commission_rate_bp)
    form["currencies"] = list(partner.currencies or [])
    form["active"] = partner.active
    for key, bp in (partner.refund_deduction_bp or {}).items():
        form[f"deduction_{key}"] = bp_to_percent(bp)
    for key, bp in (partner.resale_discount_bp or {}).items():
        form[f"discount_{key}"] = bp_to_percent(bp)
    return form


def _render(template: str, form: dict, error: DomainError | None = None, **context):
    field = error.field if error else None
    if field in {"commission_rate_bp"}:
        field = "commission"
    return render_template(
        template,
        form=form,
        error=error,
        error_field=field,
        choices=CHOICES,
        languages=LANGUAGES,
        currencies=PARTNER_CURRENCIES,
        deduction_labels=DEDUCTION_LABELS,
        discount_labels=DISCOUNT_LABELS,
        **context,
    ), (400 if error else 200)


@bp.get("")
@roles_required(Role.ADMIN)
def index():
    """Every partner, active first."""
    rows = db.session.scalars(sa.select(Partner).order_by(Partner.active.desc(), Partner.code))
    return render_template(
        "admin/partners.html",
        partners=list(rows),
        modes=MODE_LABELS,
        destinations=DESTINATION_LABELS,
    )


@bp.route("/new", methods=["GET", "POST"])
@roles_required(Role.ADMIN)
def new():
    """Onboard a partner; an invitation email creates its first user."""
    if request.method == "GET":
        return _render("admin/partner_form.html", form_of(None), partner=None)
    form = request.form.to_dict()
    form["currencies"] = request.form.getlist("currencies")
    actor = current_actor("admin")
    try:
        partner = partners.create_partner(db.session, actor, fields_from(request.form))
        invite = (request.form.get("invite_email") or "").strip()
        if invite:
            accounts.invite(
                db.session,
                actor,
                current_app.config,
                email=invite,
                name=(request.form.get("invite_name") or "").strip(),
                role=Role.PARTNER,
                partner=partner,
                language=partner.language,
            )
    except DomainError as error:
        db.session.rollback()
        if error.field == "email":
            error.field = "invite_email"
        return _render("admin/partner_form.html", form, error, partner=None)
    db.session.commit()
    if invite:
        flash(
            _("Partner %(code)s created; %(email)s was invited.", code=partner.code, email=invite),
            "ok",
        )
    else:
        flash(_("Partner %(code)s created.", code=partner.code), "ok")
    return redirect(url_for("admin_partners.show", code=partner.code), 303)


@bp.route("/<code>", methods=["GET", "POST"])
@roles_required(Role.ADMIN)
def show(code: str):
    """One partner: the form to change it, and its history."""
    partner = partners.get_partner(db.session, code)
    history = partners.history(db.session, partner)
    if request.method == "GET":
        return _render(
            "admin/partner_form.html", form_of(partner), partner=partner, history=history
        )
    form = request.form.to_dict()
    form["currencies"] = request.form.getlist("currencies")
    try:
        data = fields_from(request.form)
        data.pop("code", None)
        changed = partners.update_partner(db.session, current_actor("admin"), partner, data)
    except DomainError as error:
        db.session.rollback()
        return _render("admin/partner_form.html", form, error, partner=partner, history=history)
    db.session.commit()
    flash(
        _("Saved: %(fields)s.", fields=", ".join(sorted(changed)))
        if changed
        else _("Nothing changed."),
        "ok",
    )
    return redirect(url_for("admin_partners.show", code=partner.code), 303)
