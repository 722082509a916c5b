"""One relay node in its own process, for the multi-node tests: the app factory
(``Relay`` + ``relay_app``) on a Redis log whose timings the test chooses (short heartbeats,
a short retention), which ``oxide-rx serve --redis`` keeps at their defaults.

    python tests/relay/relay_node.py --redis URL --base-url MOCK [--prefix P] [--node NAME]
        [--heartbeat S] [--owner-timeout S] [--retention S]

Prints ``listening on http://127.0.0.1:<port>/`` once serving; SIGTERM stops it cleanly.
The API key comes from ``OPENAI_API_KEY``.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal

from aiohttp import web

import oxide_rx as ox
from oxide_rx.relay import Relay, RelayPolicy, relay_app
from oxide_rx.relay.redis_log import RedisLog


async def main(args: argparse.Namespace) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    loop.add_signal_handler(signal.SIGTERM, stop.set)
    policy = RelayPolicy(retention=args.retention, keepalive=args.keepalive)
    async with RedisLog.from_url(args.redis, prefix=args.prefix, heartbeat=args.heartbeat,
                                 owner_timeout=args.owner_timeout) as log, ox.OpenAI(
        base_url=args.base_url, api_key=os.environ["OPENAI_API_KEY"], max_retries=0
    ) as client:
        relay = Relay(client, log=log, policy=policy, node=args.node)
        runner = web.AppRunner(relay_app(relay), access_log=None, shutdown_timeout=1.0)
        await runner.setup()
        try:
            await web.TCPSite(runner, "127.0.0.1", 0).start()
            print(f"listening on http://127.0.0.1:{runner.addresses[0][1]}/", flush=True)
            await stop.wait()
        finally:
            await runner.cleanup()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--redis", required=True)
    parser.add_argument("--base-url", required=True)
    parser.add_argument("--prefix", default="oxide_rx:relay:")
    parser.add_argument("--node")
    parser.add_argument("--heartbeat", type=float, default=1.0)
    parser.add_argument("--owner-timeout", type=float, default=5.0)
    parser.add_argument("--retention", type=float, default=600.0)
    parser.add_argument("--keepalive", type=float, default=15.0)
    asyncio.run(main(parser.parse_args()))
