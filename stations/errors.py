"""How refusals look: JSON for the API, a message fragment for htmx regions (a station never
draws a whole error page inside itself), a page for everyone else."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Flask, jsonify, render_template, request
from flask_wtf.csrf import CSRFError

from stations.extensions import htmx
from stations.htmx import Outcome, scan_answer
from warehouse.errors import DomainError

CSRF_MESSAGE = "The form expired or was not sent from this site; reload the page and retry."


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


def init_app(app: Flask) -> None:
    """Register the app-wide error handlers."""

    @app.errorhandler(DomainError)
    def domain_error(error: DomainError):
        if _wants_json():
            return jsonify(error.as_dict()), error.status
        return refusal(error.message, error.status, kind=error.code)

    @app.errorhandler(CSRFError)
    def csrf_error(error: CSRFError):
        if _wants_json():
            return jsonify({"error": "csrf", "message": CSRF_MESSAGE}), 400
        return refusal(CSRF_MESSAGE, 400, kind="csrf")

    for status, message in (
        (400, "That request could not be understood."),
        (403, "You do not have access to this screen."),
        (404, "Nothing was found at this address."),
        (405, "That method is not allowed here."),
        (413, "The upload is too large."),
        (500, "Something went wrong on our side; nothing was saved. Try again."),
    ):
        app.register_error_handler(status, _handler(status, message))


def _handler(status: int, message: str):
    def handler(error):
        name = getattr(error, "name", "error").lower().replace(" ", "_")
        return refusal(message, status, kind=name)

    return handler
