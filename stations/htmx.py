"""How screens answer: a scan with its fragment and signal, a file, or a fragment-or-303.

Every station answers an htmx request with the region that changed and a plain form post with
a 303 back to a page, so each screen also works without JavaScript.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from flask import Response, flash, make_response, redirect

from stations.extensions import htmx

SCAN_OK = "scan-ok"
SCAN_ERROR = "scan-error"


def scan_answer(html: str, *, ok: bool, status: int | None = None) -> Response:
    """An htmx answer to a scan: the fragment plus HX-Trigger for the ok / error signal.

    Refusals answer 422 (or `status`) with the message fragment; the page's script swaps 4xx
    fragments in, so the operator always reads why.
    """
    response = make_response(html, status or (200 if ok else 422))
    response.headers["HX-Trigger"] = SCAN_OK if ok else SCAN_ERROR
    return response


def fragment_or_303(
    fragment: Callable[[], str],
    url: str,
    *,
    ok: bool = True,
    message: str | None = None,
    status: int | None = None,
    after_render: Callable[[], None] | None = None,
) -> Response:
    """The answer of a station action: for htmx the rendered `fragment` as a scan answer,
    else `message` flashed and a 303 to `url` (the station page that shows the same state).

    `after_render` runs after the fragment is drawn (a view commits there, so the fragment is
    drawn from the objects already loaded); without htmx it runs before the redirect.
    """
    if htmx:
        html = fragment()
        if after_render is not None:
            after_render()
        return scan_answer(html, ok=ok, status=None if ok else status)
    if after_render is not None:
        after_render()
    if message:
        flash(message, "ok" if ok else "error")
    return redirect(url, 303)


def file_response(
    body: bytes | str | Iterable, mimetype: str, filename: str, *, inline: bool = False
) -> Response:
    """`body` (bytes, text or a stream of chunks) named `filename`; `inline` opens it in place."""
    disposition = "inline" if inline else "attachment"
    return Response(
        body,
        mimetype=mimetype,
        headers={"Content-Disposition": f'{disposition}; filename="{filename}"'},
    )
