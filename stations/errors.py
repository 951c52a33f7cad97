"""How refusals look: JSON for the API, a message fragment for htmx regions (a station never
draws a whole error page inside itself), a page for everyone else."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from flask import Flask, jsonify, make_response, render_template, request
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from stations.extensions import htmx
from stations.htmx import Outcome, scan_answer
from warehouse.errors import DomainError, InvalidInput
from warehouse.i18n import N_
from warehouse.i18n import gettext as _

JSON_NUL = re.compile(rb"(?<!\\)\\u0000")  # a \u0000 escape in a JSON body (not "\\u0000")
CSRF_MESSAGE = N_("The form expired or was not sent from this site; reload the page and retry.")


def _wants_json() -> bool:
    return request.path.startswith("/api/") or request.path == "/healthz"


def refusal(message: str, status: int, *, kind: str | None = None):
    """A refusal in the form the caller reads: JSON, an htmx fragment, or a page."""
    if _wants_json():
        return jsonify({"error": kind or "refused", "message": message}), status
    if htmx:
        response = scan_answer(
            render_template("errors/_message.html", message=message),
            outcome=Outcome.ERROR,
            status=status,
        )
        if kind:
            response.headers["X-Refusal"] = kind  # the station client renews its token on csrf
        return response
    return render_template("errors/error.html", message=message, back=_same_site_referrer()), status


def _same_site_referrer() -> str | None:
    referrer = request.referrer or ""
    parts = urlsplit(referrer)
    return referrer if parts.netloc == request.host and parts.scheme in ("http", "https") else None


def refuse_nul_characters() -> None:
    """No text a client sends may hold a NUL character (PostgreSQL cannot store one): refused
    before any view runs, naming where it was, for every form field, query value, URL part and
    JSON body alike."""
    sources = [("url", value) for value in (request.view_args or {}).values()]
    sources += [(name, value) for name, value in request.args.items(multi=True)]
    if request.method in ("POST", "PUT", "PATCH", "DELETE"):
        sources += [(name, value) for name, value in request.form.items(multi=True)]
        if request.is_json and JSON_NUL.search(request.get_data(cache=True)):
            sources.append(("body", "\x00"))
    for name, value in sources:
        if isinstance(value, str) and "\x00" in value:
            raise InvalidInput(
                _("%(name)s holds a NUL character, which no text may", name=name), field=name
            )


def init_app(app: Flask) -> None:
    """Register the app-wide error handlers and the guard against NUL characters."""
    app.before_request(refuse_nul_characters)

    @app.errorhandler(DomainError)
    def domain_error(error: DomainError):
        if _wants_json():
            response = make_response(jsonify(error.as_dict()), error.status)
        else:
            response = make_response(refusal(error.message, error.status, kind=error.code))
        if "retry_after" in error.details:  # a limit: when to try again
            response.headers["Retry-After"] = str(error.details["retry_after"])
        return response

    @app.errorhandler(CSRFError)
    def csrf_error(error: CSRFError):
        if _wants_json():
            return jsonify({"error": "csrf", "message": CSRF_MESSAGE}), 400
        return refusal(_(CSRF_MESSAGE), 400, kind="csrf")

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException):
        status = error.code or 500
        if status in MESSAGES:
            message = _(MESSAGES[status])
        else:
            message = error.description or _("That request was refused.")
        name = (error.name or "error").lower().replace(" ", "_")
        response = make_response(refusal(message, status, kind=name))
        for header, value in error.get_headers():  # e.g. Allow on a 405, Retry-After
            if header.lower() != "content-type":
                response.headers.setdefault(header, value)
        return response

    # An unforeseen exception reaches the HTTPException handler as a 500 (Flask logs it with its
    # traceback first): JSON on the API, never the HTML error page.


# Marked for the catalogs; translated when a refusal is drawn (the reader is known then).
MESSAGES = {
    400: N_("That request could not be understood."),
    403: N_("You do not have access to this screen."),
    404: N_("Nothing was found at this address."),
    405: N_("That method is not allowed here."),
    413: N_("The upload is too large."),
    500: N_("Something went wrong on our side; nothing was saved. Try again."),
}
