"""Which language each request is answered in, and the template helpers that follow it.

- Staff screens: the user's own setting (`User.language`).
- The partner portal (and a partner's case link): the partner's language.
- Customer pages: the order's language (the channel's, or its country's when the channel sent
  none), until the customer picks another with the switch on the page (`?lang=sv`, kept in the
  session); before an order is known, the browser's `Accept-Language`.
- The JSON API answers in English: its texts are for integrations, its data is in codes.

Flask-Babel asks `warehouse.i18n.current()` for the locale, and the templates' `_()` is the
domain's own `i18n.gettext`, so a mail rendered in the worker and a page rendered here read the
same catalogs the same way. `<html lang>` is `lang`, which is always the language in use.
"""

from __future__ import annotations

from flask import Flask, g, request, session
from flask_babel import Babel
from flask_login import current_user

from warehouse import i18n, wording
from warehouse.i18n import N_

CHOSEN = "lang"  # session key of the language the customer picked with the switch


def init_app(app: Flask) -> None:
    """Register Flask-Babel, the per-request choice and the template helpers."""
    Babel(
        app,
        locale_selector=i18n.current,
        default_translation_directories=str(i18n.TRANSLATIONS),
    )
    wording.install(app.jinja_env)
    app.before_request(_choose)
    app.after_request(_say_which)
    app.teardown_request(_forget)
    app.context_processor(lambda: {"lang": i18n.current(), "languages": i18n.LANGUAGES})
    app.jinja_env.globals["script_words"] = script_words


# What the page scripts (static/js) say, by its English; `%(name)s` is filled in by the script.
SCRIPT_WORDS = (
    N_("Retry"),
    N_("Discard"),
    N_("Sending %(label)s…"),
    N_(
        "Network problem: %(label)s was not answered. "
        "Retry or discard it; scans after it wait in order."
    ),
    N_(
        "Your session has ended: %(label)s was not done. Log in "
        "again in a new tab, then retry it here."
    ),
    N_(
        "The server could not answer %(label)s (%(status)s). "
        "Retry it, or discard it and scan again."
    ),
    N_("Key mode: press 1–6 to grade, Esc to leave."),  # noqa: RUF001 (an en dash, as the script writes it)
    N_("Label to print"),
    N_("Hold the barcode inside the frame."),
    N_("The camera is not available (%(error)s). Use the scanner or type the code."),
    N_("Return rate (%%)"),
    N_("Units"),
    N_("On time"),
    N_("Late"),
    N_("Listed value"),
    N_("Sold for"),
    N_("Sold"),
    N_("Returned"),
    N_("Revenue %(currency)s"),
)


def script_words() -> dict[str, str]:
    """The scripts' words in the reader's language, for the page's #ui-words block."""
    return {word: i18n.gettext(word) for word in SCRIPT_WORDS}


def _choose() -> None:
    """Set the language of this request from who is asking (see the module docstring)."""
    g.reading_token = i18n.enter(i18n.DEFAULT)
    if request.path.startswith("/api/"):
        return
    picked = i18n.supported(request.args.get(CHOSEN))
    if picked and request.method == "GET":
        session[CHOSEN] = picked
    if current_user.is_authenticated:
        i18n.set_reading(_language_of_user(current_user))
        return
    i18n.set_reading(session.get(CHOSEN) or _from_browser())


def _say_which(response):
    """Pages say their language in a header too (the API stays English and says nothing)."""
    if response.mimetype == "text/html" and not request.path.startswith("/api/"):
        response.headers["Content-Language"] = i18n.current()
        response.vary.add("Accept-Language")
    return response


def _forget(_error=None) -> None:
    token = g.pop("reading_token", None)
    if token is not None:
        i18n.leave(token)


def _language_of_user(user) -> str:
    if user.partner_id is not None and user.partner is not None:
        return user.partner.language
    return user.language


def _from_browser() -> str:
    return request.accept_languages.best_match(i18n.LANGUAGES) or i18n.DEFAULT


def for_customer(language: str | None) -> str:
    """Answer this customer page in the order's `language`, unless the customer chose another."""
    return i18n.set_reading(session.get(CHOSEN) or i18n.supported(language) or _from_browser())


def for_partner(language: str | None) -> str:
    """Answer this page (a case link, opened without logging in) in the partner's `language`."""
    return i18n.set_reading(language)
