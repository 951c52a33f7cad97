"""Unit labels printed on network label printers: ZPL II over raw TCP (port 9100, the Zebra
convention), sent by a background job so a slow or switched-off printer never holds up a scan.

A station asks for a print in the transaction of the scan (`request_print`); the relay hands
the job to RQ within a second and the worker sends the label. A printer that is off makes the
job fail and retry with the usual backoff; the Jobs screen shows it.
"""

from __future__ import annotations

import secrets
import socket

import sqlalchemy as sa
from sqlalchemy.orm import Session

from labels.unit_label import unit_label_zpl
from warehouse import i18n
from warehouse.documents import unit_label_for
from warehouse.errors import InvalidInput, NotFound
from warehouse.events import Actor, record
from warehouse.i18n import gettext as _
from warehouse.jobs import JobContext, job_kind
from warehouse.models import Outbox, Printer, Unit
from warehouse.outbox import enqueue

PRINT_LABEL = "print_label"
SEND_TIMEOUT = 5.0  # seconds to connect to and write to a printer


def request_print(session: Session, unit: Unit, printer: Printer, actor: Actor) -> Outbox:
    """Queue one print of the unit's label on `printer` (each request prints once), in the
    language of the operator who asked, as the label shown on their screen."""
    if not printer.active:
        raise InvalidInput(
            _("The printer %(name)s is out of use; pick another.", name=printer.name)
        )
    record(
        session,
        actor,
        "label.print_requested",
        unit,
        site_id=unit.site_id,
        lpn=unit.lpn,
        printer=printer.name,
    )
    return enqueue(
        session,
        PRINT_LABEL,
        {"lpn": unit.lpn, "printer_id": printer.id, "language": i18n.current()},
        f"print:{unit.lpn}:{secrets.token_hex(8)}",
    )


def send_zpl(host: str, port: int, zpl: str, *, timeout: float = SEND_TIMEOUT) -> int:
    """Write ZPL to a raw TCP printer port; returns the number of bytes sent."""
    data = zpl.encode("utf-8")
    with socket.create_connection((host, port), timeout=timeout) as connection:
        connection.sendall(data)
        connection.shutdown(socket.SHUT_WR)
    return len(data)


@job_kind(PRINT_LABEL, queue="print", timeout=60)
def print_label(job: JobContext, payload: dict) -> str:
    """The background job: render the unit's label as ZPL and send it to the printer."""
    unit = job.session.scalars(sa.select(Unit).where(Unit.lpn == payload["lpn"])).one_or_none()
    printer = job.session.get(Printer, payload["printer_id"])
    if unit is None or printer is None:
        raise NotFound(_("nothing to print: %(payload)s", payload=payload))
    with i18n.reading(payload.get("language")):  # queued before: English, as printed then
        zpl = unit_label_zpl(unit_label_for(unit))
    sent = send_zpl(printer.host, printer.port, zpl)
    return f"{sent} bytes of ZPL for {unit.lpn} to {printer.name} ({printer.host}:{printer.port})"


def site_printers(session: Session, site_id: int | None) -> list[Printer]:
    """The active printers of a site, by name."""
    if site_id is None:
        return []
    return list(
        session.scalars(
            sa.select(Printer)
            .where(Printer.site_id == site_id, Printer.active.is_(True))
            .order_by(Printer.name)
        )
    )


def add_printer(
    session: Session, *, site_id: int, name: str, host: str, port: int | str, actor: Actor
) -> Printer:
    """A new network label printer at a site; refuses a blank name, a bad host or port."""
    name, host = (name or "").strip(), (host or "").strip()
    if not name or len(name) > 60:
        raise InvalidInput(_("Name the printer (at most 60 characters)."), field="name")
    if not host or len(host) > 253 or any(c.isspace() for c in host) or "/" in host:
        raise InvalidInput(_("The printer's host is a name or an IP address."), field="host")
    try:
        port = int(str(port).strip() or "9100")
    except ValueError:
        raise InvalidInput(_("The port is a number, usually 9100."), field="port") from None
    if not 1 <= port <= 65535:
        raise InvalidInput(_("The port is between 1 and 65535, usually 9100."), field="port")
    taken = session.scalar(
        sa.select(Printer.id).where(Printer.site_id == site_id, Printer.name == name)
    )
    if taken is not None:
        raise InvalidInput(
            _("This site has a printer called %(name)s already.", name=name), field="name"
        )
    printer = Printer(site_id=site_id, name=name, host=host, port=port)
    session.add(printer)
    session.flush()
    record(session, actor, "printer.added", printer, site_id=site_id, host=host, port=port)
    return printer
