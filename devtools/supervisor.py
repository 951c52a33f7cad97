"""The process supervisor of `make run`: starts the background processes and the web server,
restarts any that exits (with a growing backoff, each restart logged), and on Ctrl-C or SIGTERM
stops them all — the Redis server it started included.

    python -m devtools.supervisor --logs instance/logs \\
        redis="redis-server --port 6379 ..." worker="flask --app wsgi worker" ...

Each program runs in a session of its own (its own process group); it is stopped by its pid,
never by name: SIGTERM to its group, then SIGKILL after the grace period. Its output goes to
`<logs>/<name>.log`; the supervisor's own lines go to standard output and `<logs>/supervisor.log`.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import os
import shlex
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

BACKOFF = (1.0, 60.0)  # first and longest wait before a restart
STEADY = 60.0  # a program that ran this long restarts after the first backoff again
GRACE = 10.0  # seconds a stopping program gets before SIGKILL
TICK = 0.2


@dataclass
class Program:
    """One supervised command and its state."""

    name: str
    argv: list[str]
    process: subprocess.Popen | None = None
    started: float = 0.0
    backoff: float = BACKOFF[0]
    restart_at: float | None = None
    restarts: int = 0
    log: object = field(default=None, repr=False)


class Supervisor:
    """Keeps `programs` running until asked to stop."""

    def __init__(self, programs: list[Program], logs: Path) -> None:
        self.programs = programs
        self.logs = logs
        self.logs.mkdir(parents=True, exist_ok=True)
        self.journal = (self.logs / "supervisor.log").open("a", encoding="utf-8")
        self.stopping = False

    def say(self, text: str) -> None:
        """A line for the operator and for supervisor.log."""
        stamp = dt.datetime.now().astimezone().strftime("%Y-%m-%d %H:%M:%S")
        line = f"{stamp} supervisor: {text}"
        print(line, flush=True)
        self.journal.write(line + "\n")
        self.journal.flush()

    def start(self, program: Program) -> None:
        """Start one program in its own session, its output to its log."""
        if program.log is None:
            program.log = (self.logs / f"{program.name}.log").open("ab")
        program.process = subprocess.Popen(
            program.argv,
            stdout=program.log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
        program.started = time.monotonic()
        program.restart_at = None
        self.say(f"started {program.name} (pid {program.process.pid})")

    def check(self, program: Program) -> None:
        """Restart a program that exited, after its backoff."""
        now = time.monotonic()
        if program.process is not None:
            code = program.process.poll()
            if code is None:
                return
            ran = now - program.started
            if ran > STEADY:
                program.backoff = BACKOFF[0]
            program.process = None
            program.restart_at = now + program.backoff
            self.say(
                f"{program.name} exited with code {code} after {ran:.0f} s; "
                f"restarting in {program.backoff:.0f} s (see {self.logs / program.name}.log)"
            )
            program.backoff = min(program.backoff * 2, BACKOFF[1])
            return
        if program.restart_at is not None and now >= program.restart_at:
            program.restarts += 1
            self.start(program)

    def run(self) -> int:
        """Start everything, watch it, and stop everything on SIGTERM / SIGINT."""
        signal.signal(signal.SIGTERM, self._request_stop)
        signal.signal(signal.SIGINT, self._request_stop)
        for program in self.programs:
            self.start(program)
        while not self.stopping:
            for program in self.programs:
                self.check(program)
            time.sleep(TICK)
        self.stop_all()
        return 0

    def _request_stop(self, signum, _frame) -> None:
        self.stopping = True

    def stop_all(self) -> None:
        """SIGTERM each running program's group (newest first), SIGKILL what is left after
        the grace period."""
        running = [p for p in reversed(self.programs) if p.process and p.process.poll() is None]
        for program in running:
            self.say(f"stopping {program.name} (pid {program.process.pid})")
            _signal_group(program.process.pid, signal.SIGTERM)
        deadline = time.monotonic() + GRACE
        for program in running:
            try:
                program.process.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                self.say(f"{program.name} did not stop in {GRACE:.0f} s: killing it")
                _signal_group(program.process.pid, signal.SIGKILL)
                program.process.wait(5)
        self.say("all stopped")


def _signal_group(pid: int, signum: int) -> None:
    """Signal the process group a supervised program leads (it is its own session leader)."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pid, signum)


def parse_programs(items: list[str]) -> list[Program]:
    """`name=command line` arguments as programs, in order."""
    programs = []
    for item in items:
        name, sep, command = item.partition("=")
        if not sep or not name or not command.strip():
            raise SystemExit(f"supervisor: {item!r} is not NAME=COMMAND")
        programs.append(Program(name, shlex.split(command)))
    return programs


def main(argv: list[str] | None = None) -> int:
    """Command line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--logs", type=Path, required=True, help="folder for the logs")
    parser.add_argument("programs", nargs="+", help="NAME=COMMAND, started in this order")
    args = parser.parse_args(argv)
    return Supervisor(parse_programs(args.programs), args.logs).run()


if __name__ == "__main__":
    sys.exit(main())
