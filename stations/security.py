"""The web basics on every response: a Content-Security-Policy the screens work under (no
inline script or style), no framing by other sites, no sniffing, no referrer leaving the site;
Secure cookies and HSTS behind HTTPS; the trusted proxy's forwarded address.

Pages whose URL is a secret (a partner's one-click case link, a customer's label link) are
marked with `@secret_link_page`: never cached, never framed, never sent as a referrer.
"""

from __future__ import annotations

from flask import Flask, make_response, request
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
# A PDF, an image, a CSV: the browser's viewer draws it, and the page policy above would get in
# its way (Chromium's PDF viewer needs its own styles and plugin); it still may not be framed
# by another site.
FILE_POLICY = "frame-ancestors 'self'"
UNFRAMED_FILE_POLICY = "frame-ancestors 'none'"
# An email's HTML as a mail client shows it: its own inline styles, nothing else, no scripts.
MAIL_PREVIEW_POLICY = (
    "default-src 'none'; style-src 'unsafe-inline'; img-src data:; frame-ancestors 'self'; sandbox"
)

HEADERS = {
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
        # The client's address and scheme from the proxies' headers; the host stays the one
        # the request names (links use PUBLIC_URL, never a forwarded host).
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=proxies, x_proto=proxies)
    secure = app.config["SECURE_COOKIES"]

    @app.after_request
    def headers(response):
        secret = _is_secret_link(app)
        html = response.mimetype == "text/html"
        if secret:  # the page itself and any refusal under its address alike
            response.headers["Cache-Control"] = "no-store"
            response.headers["X-Frame-Options"] = "DENY"
            response.headers["Referrer-Policy"] = "no-referrer"
            policy = SECRET_LINK_POLICY if html else UNFRAMED_FILE_POLICY
            response.headers["Content-Security-Policy"] = policy
        else:
            policy = CONTENT_SECURITY_POLICY if html else FILE_POLICY
            response.headers.setdefault("Content-Security-Policy", policy)
        for name, value in HEADERS.items():
            response.headers.setdefault(name, value)
        if secure:
            response.headers.setdefault("Strict-Transport-Security", HSTS)
        return response


def _is_secret_link(app: Flask) -> bool:
    view = app.view_functions.get(request.endpoint or "")
    return bool(getattr(view, "secret_link", False))


def secret_link_page(view):
    """Mark a view whose URL carries a secret: its answers (refusals included) are not stored
    by any cache, not framable at all, and its address is never sent as a referrer."""
    view.secret_link = True
    return view


def mail_preview(html: str):
    """An email's HTML part as its own sandboxed document, for the mailbox's preview frame."""
    response = make_response(html)
    response.headers["Content-Type"] = "text/html; charset=utf-8"
    response.headers["Content-Security-Policy"] = MAIL_PREVIEW_POLICY
    response.headers["Cache-Control"] = "no-store"
    return response
