"""The web basics on every response: a Content-Security-Policy the screens work under (no
inline script or style), no framing by other sites, no sniffing, no referrer leaving the site;
Secure cookies and HSTS behind HTTPS; the trusted proxy's forwarded address.

Pages whose URL is a secret (a partner's one-click case link, a customer's label link) are
marked with `@secret_link_page`: never cached, never framed, never sent as a referrer.
"""

from __future__ import annotations

import functools

from flask import Flask, make_response
from werkzeug.middleware.proxy_fix import ProxyFix


def _policy(**overrides: str) -> str:
    directives = {
        "default-src": "'self'",
        "script-src": "'self'",
        "style-src": "'self'",
        "img-src": "'self' data: blob:",
        "media-src": "'self' blob:",
        "connect-src": "'self'",
        "frame-src": "'self'",  # the label PDF a station prints, the mailbox's mail preview
        "object-src": "'none'",
        "base-uri": "'none'",
        "form-action": "'self'",
        "frame-ancestors": "'self'",
    }
    directives.update(overrides)
    return "; ".join(f"{name} {value}" for name, value in directives.items())


CONTENT_SECURITY_POLICY = _policy()
SECRET_LINK_POLICY = _policy(**{"frame-ancestors": "'none'"})
# An email's HTML as a mail client shows it: its own inline styles, nothing else, no scripts.
MAIL_PREVIEW_POLICY = (
    "default-src 'none'; style-src 'unsafe-inline'; img-src data:; frame-ancestors 'self'; sandbox"
)

HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Frame-Options": "SAMEORIGIN",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Permissions-Policy": "camera=(self), microphone=(), geolocation=()",
    "Cross-Origin-Opener-Policy": "same-origin",
}
HSTS = "max-age=31536000"


def init_app(app: Flask) -> None:
    """Security headers on every response; HTTPS cookie settings and the proxy's headers."""
    if app.config["SECURE_COOKIES"]:
        app.config.update(SESSION_COOKIE_SECURE=True, REMEMBER_COOKIE_SECURE=True)
    proxies = app.config["TRUSTED_PROXIES"]
    if proxies:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=proxies, x_proto=proxies, x_host=proxies)
    secure = app.config["SECURE_COOKIES"]

    @app.after_request
    def headers(response):
        for name, value in HEADERS.items():
            response.headers.setdefault(name, value)
        if secure:
            response.headers.setdefault("Strict-Transport-Security", HSTS)
        return response


def secret_link_page(view):
    """For a view whose URL carries a secret: not stored by any cache, not framable at all, and
    its address is never sent as a referrer (not even to this site)."""

    @functools.wraps(view)
    def wrapped(*args, **kwargs):
        response = make_response(view(*args, **kwargs))
        response.headers["Cache-Control"] = "no-store"
        response.headers["Content-Security-Policy"] = SECRET_LINK_POLICY
        response.headers["X-Frame-Options"] = "DENY"
        response.headers["Referrer-Policy"] = "no-referrer"
        return response

    return wrapped


def mail_preview(html: str):
    """An email's HTML part as its own sandboxed document, for the mailbox's preview frame."""
    response = make_response(html)
    response.headers["Content-Type"] = "text/html; charset=utf-8"
    response.headers["Content-Security-Policy"] = MAIL_PREVIEW_POLICY
    response.headers["Cache-Control"] = "no-store"
    return response
