"""How screens answer: a scan with its fragment and outcome, a file, or a fragment-or-303; and
scans the station client sends with an id, done once however often they are resent.

Every station answers an htmx request with the region that changed and a plain form post with
a 303 back to a page, so each screen also works without JavaScript. The outcome of a scan is
one of three, each with its own colour and tone in the station client (`static/js/station.js`):
`ok`, `warn` (done, but look: a flagged unit, a parcel to forward) and `error` (refused).
"""

from __future__ import annotations

import enum
import functools
import re
from collections.abc import Callable, Iterable

import sqlalchemy as sa
from flask import Response, flash, make_response, redirect, request
from flask_login import current_user

from stations.extensions import htmx
from warehouse.db import db
from warehouse.errors import InvalidInput
from warehouse.i18n import gettext as _
from warehouse.models import StationScan

# Headers of a scan answer that a replay must repeat (the outcome, the label to print).
REPLAYED_HEADERS = ("HX-Trigger", "X-Scan-Outcome", "X-Print-Label")
SCAN_ID = re.compile(r"^[A-Za-z0-9_-]{8,64}$")


class Outcome(enum.StrEnum):
    """How a scan went, as the station shows and sounds it."""

    OK = "ok"
    WARN = "warn"
    ERROR = "error"


def scan_answer(html: str, *, outcome: Outcome = Outcome.OK, status: int | None = None) -> Response:
    """An htmx answer to a scan: the fragment, its outcome in `X-Scan-Outcome`, and HX-Trigger
    `scan-ok` / `scan-warn` / `scan-error` for pages that listen to htmx events.

    Refusals answer 422 (or `status`) with the message fragment; the station client swaps 4xx
    fragments in, so the operator always reads why.
    """
    outcome = Outcome(outcome)
    default = 422 if outcome == Outcome.ERROR else 200
    response = make_response(html, status or default)
    response.headers["HX-Trigger"] = f"scan-{outcome.value}"
    response.headers["X-Scan-Outcome"] = outcome.value
    return response


def fragment_or_303(
    fragment: Callable[[], str],
    url: str,
    *,
    outcome: Outcome = Outcome.OK,
    message: str | None = None,
    status: int | None = None,
    after_render: Callable[[], None] | None = None,
) -> Response:
    """The answer of a station action: for htmx the rendered `fragment` as a scan answer,
    else `message` flashed and a 303 to `url` (the station page that shows the same state).

    `after_render` runs after the fragment is drawn (a view commits there, so the fragment is
    drawn from the objects already loaded); without htmx it runs before the redirect.
    """
    outcome = Outcome(outcome)
    if htmx:
        html = fragment()
        if after_render is not None:
            after_render()
        return scan_answer(html, outcome=outcome, status=status)
    if after_render is not None:
        after_render()
    if message:
        flash(message, outcome.value)
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


def once_per_scan(view):
    """A station action done once per client scan id (`scan_id` in the form), committed once.

    The decorated view never commits: this does, after the view has drawn its answer, so the
    scan's effect, its id and the answer it got are one transaction. A resent id is answered
    with the stored answer and changes nothing; a refused scan rolls back and leaves no id (sent
    again, it is judged again and changes nothing either); a scan that changed nothing (a
    look-up) is not remembered. A twin request racing the first loses on the primary key and
    gets the first one's answer.
    """

    @functools.wraps(view)
    def wrapped(*args, **kwargs):
        scan_id = request.form.get("scan_id", "").strip()
        if not scan_id or not current_user.is_authenticated:
            response = view(*args, **kwargs)
            db.session.commit()
            return response
        if not SCAN_ID.match(scan_id):
            raise InvalidInput(_("scan_id is 8 to 64 letters, digits, - or _"), field="scan_id")
        key = (current_user.id, scan_id)
        stored = db.session.get(StationScan, key)
        if stored is not None:
            return replay(stored)
        session = db.session()
        changes: list[bool] = []

        def before_flush(flushing, _context, _instances) -> None:
            pending = [*flushing.new, *flushing.dirty, *flushing.deleted]
            if any(not isinstance(instance, StationScan) for instance in pending):
                changes.append(True)

        def executed(state) -> None:
            if state.is_insert or state.is_update or state.is_delete:
                changes.append(True)

        def rolled_back(_session, _transaction) -> None:  # a refusal undid what was done
            changes.clear()

        listeners = (
            ("before_flush", before_flush),
            ("do_orm_execute", executed),
            ("after_soft_rollback", rolled_back),
        )
        for name, listener in listeners:
            sa.event.listen(session, name, listener)
        try:
            response = view(*args, **kwargs)
            session.flush()
        finally:
            for name, listener in listeners:
                sa.event.remove(session, name, listener)
        if not changes:  # a look-up or a refusal: nothing to remember, nothing to commit
            db.session.rollback()
            return response
        db.session.add(
            StationScan(
                user_id=key[0],
                scan_id=scan_id,
                endpoint=request.endpoint or "",
                status_code=response.status_code,
                headers={
                    name: response.headers[name]
                    for name in REPLAYED_HEADERS
                    if name in response.headers
                },
                body=response.get_data(as_text=True),
            )
        )
        try:
            db.session.commit()
        except sa.exc.IntegrityError:
            db.session.rollback()
            stored = db.session.get(StationScan, key)
            if stored is None:
                raise
            return replay(stored)
        return response

    return wrapped


def replay(stored: StationScan) -> Response:
    """The answer a scan got the first time (the station resent it after a network failure)."""
    response = make_response(stored.body, stored.status_code or 200)
    for name, value in (stored.headers or {}).items():
        response.headers[name] = value
    response.headers["X-Scan-Replayed"] = "1"
    return response
