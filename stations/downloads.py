"""File answers: a PDF shown in the browser, or a file (ZPL, CSV, JSON) to save."""

from __future__ import annotations

from collections.abc import Iterable

from flask import Response


def file_response(
    body: bytes | str | Iterable, mimetype: str, filename: str, *, inline: bool = False
):
    """`body` (bytes, text or a stream of chunks) named `filename`; `inline` opens it in place."""
    disposition = "inline" if inline else "attachment"
    return Response(
        body,
        mimetype=mimetype,
        headers={"Content-Disposition": f'{disposition}; filename="{filename}"'},
    )
