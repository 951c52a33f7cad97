"""The background processes as commands: `worker`, `relay` and the development `mail-sink`."""

from __future__ import annotations

import logging
import time
from pathlib import Path

import click
from flask import current_app

from stations import worker

LOG_FORMAT = "%(asctime)s %(name)s %(message)s"


@click.command("worker")
@click.option("--burst", is_flag=True, help="Stop when the queues are empty.")
@click.option(
    "--class",
    "class_name",
    type=click.Choice(sorted(worker.WORKER_CLASSES)),
    default=None,
    help="Worker class (default: the RQ_WORKER_CLASS setting).",
)
@click.option("--name", default=None, help="Worker name (default: host.pid).")
def worker_command(burst, class_name, name):
    """Run an RQ worker with its scheduler on all job queues (retries need the scheduler)."""
    logging.basicConfig(level=logging.INFO, format=LOG_FORMAT)
    worker.run_worker(burst=burst, class_name=class_name, name=name)


@click.command("relay")
@click.option("--once", is_flag=True, help="One pass, then exit.")
@click.option("--interval", type=float, default=None, help="Seconds between passes.")
def relay_command(once, interval):
    """Move due outbox rows to RQ, forever (one relay per SQLite database)."""
    logging.basicConfig(level=logging.INFO, format=LOG_FORMAT)
    moved = worker.run_relay(once=once, interval=interval)
    if once:
        click.echo(f"dispatched {moved}")


@click.command("mail-sink")
@click.option("--folder", type=click.Path(path_type=Path), default=None)
def mail_sink_command(folder):
    """Receive mail on SMTP_HOST:SMTP_PORT and keep each as an .eml under instance/mail/."""
    from devtools import mailsink

    config = current_app.config
    folder = folder or Path(current_app.instance_path) / "mail"
    controller = mailsink.start(folder, config["SMTP_HOST"], int(config["SMTP_PORT"]))
    click.echo(f"SMTP sink on {config['SMTP_HOST']}:{config['SMTP_PORT']} writing {folder}")
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        pass
    finally:
        controller.stop()
