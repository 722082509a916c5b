"""A real ``redis-server`` for the relay's tests: spawned on a free loopback port, nothing
saved to disk, killed after; and the reason to skip when it (or the ``redis`` package) is
missing here (CI installs both)."""

from __future__ import annotations

import contextlib
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass

REDIS_SERVER = shutil.which("redis-server")

try:
    import redis  # noqa: F401
except ImportError:  # pragma: no cover - the test extra installs it
    HAVE_REDIS_PY = False
else:
    HAVE_REDIS_PY = True


def redis_missing() -> str | None:
    """Why the Redis tests cannot run here, or None when they can."""
    if REDIS_SERVER is None:
        return "redis-server is not installed (CI installs Debian's: apt-get install redis-server)"
    if not HAVE_REDIS_PY:
        return "the redis package is not installed: pip install -e '.[test]'"
    return None


@dataclass
class RedisServer:
    """One ``redis-server`` process on 127.0.0.1."""

    process: subprocess.Popen[bytes]
    port: int
    password: str | None = None

    @property
    def url(self) -> str:
        auth = f":{self.password}@" if self.password else ""
        return f"redis://{auth}127.0.0.1:{self.port}/0"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _answers(port: int) -> bool:
    """Whether a Redis on ``port`` answers a PING (``+PONG``, or ``-NOAUTH`` with a password)."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1) as connection:
            connection.sendall(b"*1\r\n$4\r\nPING\r\n")
            return connection.recv(64)[:1] in (b"+", b"-")
    except OSError:
        return False


def start_redis(*options: str, password: str | None = None, timeout: float = 10.0
                ) -> RedisServer:
    """Spawn ``redis-server --port N --save '' --appendonly no`` and wait for its PING."""
    assert REDIS_SERVER is not None
    for _ in range(5):  # a free port can be taken before redis binds it: try another
        port = free_port()
        args = [REDIS_SERVER, "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                "--appendonly", "no", "--loglevel", "warning", *options]
        if password:
            args += ["--requirepass", password]
        process = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        deadline = time.monotonic() + timeout
        while process.poll() is None and time.monotonic() < deadline:
            if _answers(port):
                return RedisServer(process, port, password)
            time.sleep(0.01)
        stop_redis(RedisServer(process, port))
    raise RuntimeError("redis-server did not answer PING on a free port")


def stop_redis(server: RedisServer) -> None:
    server.process.kill()
    with contextlib.suppress(subprocess.TimeoutExpired):
        server.process.wait(timeout=10)
    if server.process.stderr is not None:
        server.process.stderr.close()


@contextlib.contextmanager
def redis_server(*options: str, password: str | None = None) -> Iterator[RedisServer]:
    server = start_redis(*options, password=password)
    try:
        yield server
    finally:
        stop_redis(server)
