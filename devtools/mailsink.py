"""A local SMTP sink for development and tests: every mail it receives becomes an .eml file.

`make run` starts it on 127.0.0.1:8025 writing to `instance/mail/` (`flask --app wsgi
mail-sink`), so nothing leaves the machine and the supervisor's mailbox page can show what
partners and customers would have received. Tests start it on a free port; `rcpt_delay` holds
the answer to RCPT TO so a test can kill a worker in the middle of a send.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import email
import email.policy
import itertools
import threading
from dataclasses import dataclass
from pathlib import Path

from aiosmtpd.controller import Controller


@dataclass(frozen=True)
class ReceivedMail:
    path: Path
    message_id: str
    to: tuple[str, ...]
    subject: str


class MailSink:
    """aiosmtpd handler that writes each accepted message to `folder` as one .eml file."""

    def __init__(self, folder: Path, *, rcpt_delay: float = 0.0) -> None:
        self.folder = Path(folder)
        self.folder.mkdir(parents=True, exist_ok=True)
        self.rcpt_delay = rcpt_delay
        self.received: list[ReceivedMail] = []
        self.rcpt_seen = threading.Event()
        self._seq = itertools.count(1)
        self._lock = threading.Lock()

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        self.rcpt_seen.set()
        if self.rcpt_delay:
            await asyncio.sleep(self.rcpt_delay)
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        content = envelope.original_content or envelope.content
        if isinstance(content, str):
            content = content.encode()
        parsed = email.message_from_bytes(content, policy=email.policy.default)
        stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%S%f")
        with self._lock:
            path = self.folder / f"{stamp}-{next(self._seq):04d}.eml"
            path.write_bytes(content)
            self.received.append(
                ReceivedMail(
                    path,
                    str(parsed.get("Message-ID", "")),
                    tuple(envelope.rcpt_tos),
                    str(parsed.get("Subject", "")),
                )
            )
        return "250 Message accepted for delivery"


def start(folder: Path, host: str = "127.0.0.1", port: int = 8025, **options) -> Controller:
    """Start a sink in a background thread; call `.stop()` on the returned controller."""
    controller = Controller(MailSink(folder, **options), hostname=host, port=port)
    controller.start()
    return controller
