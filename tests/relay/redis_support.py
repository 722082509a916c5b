"""A real ``redis-server`` for the relay's tests: spawned on a free loopback port, nothing
saved to disk, killed after; and the reason to skip when it (or the ``redis`` package) is
missing here (CI installs both)."""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

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


# --- relay nodes in processes of their own ------------------------------------------------

HERE = Path(__file__).resolve().parent


@dataclass
class RelayNode:
    """A relay process (``oxide-rx serve --redis`` or ``relay_node.py``) on a free port."""

    name: str
    process: asyncio.subprocess.Process
    url: str
    output: list[str] = field(default_factory=list)
    """What it printed after its first line (kept for a failing test's message)."""
    _drain: asyncio.Task[None] | None = None

    async def kill(self) -> None:
        """SIGKILL: the node dies mid-whatever, as a crashed machine would."""
        self.process.kill()
        await self._wait()

    async def stop(self) -> None:
        """SIGTERM, then SIGKILL if it does not exit within 20 s."""
        if self.process.returncode is None:
            self.process.send_signal(signal.SIGTERM)
        await self._wait()

    async def _wait(self) -> None:
        try:
            async with asyncio.timeout(20):
                await self.process.wait()
        except TimeoutError:
            self.process.kill()
            await self.process.wait()
        if self._drain is not None:
            await asyncio.wait([self._drain], timeout=5)


def node_env(api_key: str) -> dict[str, str]:
    environment = {k: v for k, v in os.environ.items() if not k.startswith("OPENAI_")}
    return {**environment, "OPENAI_API_KEY": api_key}


async def spawn_node(name: str, args: list[str], *, api_key: str, timeout: float = 60.0
                     ) -> RelayNode:
    """Start ``python <args>`` and wait (at most ``timeout`` s) for its "listening on" line."""
    process = await asyncio.create_subprocess_exec(
        sys.executable, *args, env=node_env(api_key), cwd=HERE,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT)
    assert process.stdout is not None
    lines: list[str] = []
    url = None
    try:
        async with asyncio.timeout(timeout):
            while url is None:
                line = (await process.stdout.readline()).decode()
                if not line:
                    raise RuntimeError(f"node {name} exited: {''.join(lines)[-3000:]}")
                lines.append(line)
                if match := re.search(r"listening on (http://127\.0\.0\.1:\d+/)", line):
                    url = match.group(1)
    except BaseException:
        process.kill()
        await process.wait()
        raise
    node = RelayNode(name, process, url, lines)
    node._drain = asyncio.get_running_loop().create_task(_drain(process, node.output))
    return node


async def _drain(process: asyncio.subprocess.Process, output: list[str]) -> None:
    assert process.stdout is not None
    while line := await process.stdout.readline():
        output.append(line.decode())


def cli_args(redis_url: str, base_url: str) -> list[str]:
    """``oxide-rx serve --redis URL --port 0 --base-url MOCK`` (the installed entry point's
    own ``main``)."""
    return ["-m", "oxide_rx.cli", "serve", "--redis", redis_url, "--port", "0",
            "--base-url", base_url]


def node_args(redis_url: str, base_url: str, name: str, **timings: float | str) -> list[str]:
    """``relay_node.py`` (the app factory) with the timings given (``heartbeat=0.2`` ...)."""
    args = [str(HERE / "relay_node.py"), "--redis", redis_url, "--base-url", base_url,
            "--node", name]
    for key, value in timings.items():
        args += ["--" + key.replace("_", "-"), str(value)]
    return args
