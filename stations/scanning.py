"""What every scanning station shares: answer a scan with a fragment, a colour and a sound."""

from __future__ import annotations

from flask import make_response

SCAN_OK = "scan-ok"
SCAN_ERROR = "scan-error"


def scan_answer(html: str, *, ok: bool, status: int | None = None):
    """An HTMX answer to a scan: the fragment plus HX-Trigger for the ok / error signal.

    Refusals answer 422 (or `status`) with the message fragment; the page's script swaps 4xx
    fragments in, so the operator always reads why.
    """
    response = make_response(html, status or (200 if ok else 422))
    response.headers["HX-Trigger"] = SCAN_OK if ok else SCAN_ERROR
    return response
