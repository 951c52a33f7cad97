"""How refusals look: JSON for the API, a page or an HTMX fragment for people."""

from __future__ import annotations

from flask import jsonify, render_template, request
from flask_wtf.csrf import CSRFError

from warehouse.errors import DomainError


def _wants_json() -> bool:
    return request.path.startswith("/api/") or request.path == "/healthz"


def init_app(app) -> None:
    """Register the app-wide error handlers."""

    @app.errorhandler(DomainError)
    def domain_error(error: DomainError):
        if _wants_json():
            return jsonify(error.as_dict()), error.status
        return render_template("errors/error.html", message=error.message), error.status

    @app.errorhandler(CSRFError)
    def csrf_error(error: CSRFError):
        message = "The form expired or was not sent from this site; reload the page and retry."
        if _wants_json():
            return jsonify({"error": "csrf", "message": message}), 400
        return render_template("errors/error.html", message=message), 400

    for status, message in (
        (400, "That request could not be understood."),
        (403, "You do not have access to this screen."),
        (404, "Nothing was found at this address."),
        (405, "That method is not allowed here."),
        (413, "The upload is too large."),
    ):
        app.register_error_handler(status, _page(status, message))


def _page(status: int, message: str):
    def handler(error):
        if _wants_json():
            return jsonify(
                {"error": error.name.lower().replace(" ", "_"), "message": message}
            ), status
        return render_template("errors/error.html", message=message), status

    return handler
