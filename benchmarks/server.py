"""The benchmark's mock server: a separate process serving synthetic streams.

The server runs in its own process so that the client process's CPU time
(``time.process_time``) counts the client alone. One :class:`~oxide_rx.testing.MockServer`
is started per *profile* (events per stream, pacing, stamping, write size), each on its own
loopback port, so every contender sends the very same request and gets the very same bytes.

Run by :func:`start_server` (used by ``benchmarks/run.py``); by hand::

    python benchmarks/server.py '{"n1k": {"events": 1000, "chunking": 16384}}'
    # prints {"n1k": "http://127.0.0.1:PORT/v1"} and serves until stdin closes
"""

from __future__ import annotations

import asyncio
import json
import resource
import subprocess
import sys
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import IO, Any

from aiohttp import web

from oxide_rx.testing import Chunking

__all__ = ["Profile", "ServerProcess", "start_server"]


@dataclass(frozen=True)
class Profile:
    """What one mock-server port serves to every request (chat and responses alike).

    >>> Profile(events=1000).chunking
    'events'
    """

    events: int
    interval: float = 0.0
    """Seconds between frames (0: as fast as the server can write)."""
    stamp: bool = False
    """Add ``x_stamp`` (``time.monotonic_ns()`` at send time) to every content delta."""
    chunking: Chunking = "events"
    """``"events"``: one socket write per event; an int: writes of that many bytes."""


def raise_fd_limit() -> int:
    """Raise the soft open-files limit to the hard limit (10k sockets need it); returns it."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


class _DeepBacklogSite(web.TCPSite):
    """A TCP site with a deep listen backlog: 10,000 clients connecting at once would
    overflow aiohttp's default of 128 and stall in SYN retransmits (seconds each)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("backlog", 4096)
        super().__init__(*args, **kwargs)


async def _serve(profiles: dict[str, Profile]) -> None:
    from oxide_rx.testing import Fault, MockServer, Scenario

    # MockServer binds with `web.TCPSite(runner, host, port)`; this process is only a server.
    web.TCPSite = _DeepBacklogSite  # type: ignore[misc]

    servers: list[MockServer] = []
    urls: dict[str, str] = {}
    for name, p in profiles.items():
        scenario = Scenario.synthetic(
            events=p.events, interval=p.interval, stamp=p.stamp, fault=Fault.chunking(p.chunking)
        )
        server = MockServer(scenario=scenario)
        await server.start()
        servers.append(server)
        urls[name] = server.base_url
    print(json.dumps(urls), flush=True)
    loop = asyncio.get_running_loop()
    # Serve until the parent closes our stdin (or dies): no orphan server can be left behind.
    await loop.run_in_executor(None, sys.stdin.buffer.read)
    for server in servers:
        await server.close()


def main(argv: list[str]) -> None:
    raise_fd_limit()
    spec: dict[str, Any] = json.loads(argv[1])
    profiles = {name: Profile(**fields) for name, fields in spec.items()}
    asyncio.run(_serve(profiles))


class ServerProcess:
    """A running server process; ``urls[profile]`` is each profile's ``base_url``."""

    def __init__(self, process: subprocess.Popen[bytes], urls: dict[str, str]) -> None:
        self.process = process
        self.urls = urls

    def stop(self) -> None:
        """Close stdin (the server's signal to stop), then wait; kill it if it hangs."""
        if self.process.stdin is not None:
            self.process.stdin.close()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def start_server(profiles: dict[str, Profile], stderr: IO[str] | None = None) -> ServerProcess:
    """Start the server process with ``profiles`` and wait until it listens.

    ``stderr``: where the server's log goes (a file: aiohttp logs every refused socket).
    """
    spec = json.dumps({name: asdict(p) for name, p in profiles.items()})
    process = subprocess.Popen(
        [sys.executable, str(Path(__file__).resolve()), spec],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=stderr,
    )
    assert process.stdout is not None
    line = process.stdout.readline()
    if not line:
        process.wait()
        raise RuntimeError(f"benchmark server failed to start (exit {process.returncode})")
    return ServerProcess(process, json.loads(line))


if __name__ == "__main__":
    main(sys.argv)
