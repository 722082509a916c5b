"""``oxide-rx``: stream a chat answer to the terminal, or run the mock server.

    oxide-rx chat "Write a haiku about Rust programming."
    oxide-rx chat --api responses --events "Hi"
    oxide-rx mock-server --port 8765
    oxide-rx serve --port 8080

Without ``OPENAI_API_KEY`` (and no ``--base-url``) ``chat`` and ``serve`` start the built-in
mock OpenAI server in-process and say so on stderr, so they work offline.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Sequence
from typing import Any

import msgspec

from ._exceptions import OxideRxError
from ._offline import client_or_mock
from .events import Chunk, ContentDelta, Event

__all__ = ["main"]

DEFAULT_MODEL = "gpt-4o-mini"


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="oxide-rx", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)

    chat = commands.add_parser("chat", help="stream an answer to a prompt")
    chat.add_argument("prompt", help="what to ask")
    chat.add_argument("--model", default=DEFAULT_MODEL, help=f"default {DEFAULT_MODEL}")
    chat.add_argument("--system", help="a system message to put first")
    chat.add_argument("--base-url", help="API base URL (default: OPENAI_BASE_URL)")
    chat.add_argument("--api", choices=("chat", "responses"), default="chat",
                      help="Chat Completions (default) or the Responses API")
    chat.add_argument("--events", action="store_true", help="print every typed event, one per line")

    mock = commands.add_parser("mock-server", help="run the mock OpenAI server")
    mock.add_argument("--host", default="127.0.0.1")
    mock.add_argument("--port", type=int, default=8765)

    serve = commands.add_parser(
        "serve", help="relay generations to browsers, useChat front ends and OpenAI SDKs"
    )
    serve.add_argument("--host", default="127.0.0.1", help="default 127.0.0.1 (loopback)")
    serve.add_argument("--port", type=int, default=8080, help="default 8080 (0: any free)")
    serve.add_argument("--base-url", help="API base URL (default: OPENAI_BASE_URL)")
    serve.add_argument("--model", default=DEFAULT_MODEL, help=f"default {DEFAULT_MODEL}")
    serve.add_argument("--unwatched-timeout", type=float, default=60.0,
                       help="stop a generation nobody watched for this many seconds")
    return parser


def _print_event(event: Any) -> None:
    """One line per event: helper events as their repr, wire objects as compact JSON."""
    if isinstance(event, Chunk):
        print(f"Chunk {_wire_json(event.chunk)}")
    elif isinstance(event, Event):
        print(repr(event))
    else:
        print(f"{type(event).__name__} {_wire_json(event)}")


def _wire_json(obj: Any) -> str:
    try:
        return msgspec.json.encode(obj).decode()
    except (TypeError, msgspec.EncodeError):
        return repr(obj)


async def _chat(args: argparse.Namespace) -> int:
    async with client_or_mock(args.base_url) as client:
        if args.api == "responses":
            extra = {"instructions": args.system} if args.system else {}
            stream: Any = await client.responses.create_stream(
                model=args.model, input=args.prompt, **extra
            )
        else:
            messages = [{"role": "user", "content": args.prompt}]
            if args.system:
                messages.insert(0, {"role": "system", "content": args.system})
            stream = await client.chat.completions.create_stream(model=args.model,
                                                                 messages=messages)
        async with stream:
            if args.events:
                stream.events.subscribe(_print_event)
            else:
                stream.on(ContentDelta, lambda e: print(e.delta, end="", flush=True))
            await stream.until_done()
        if not args.events:
            print()
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.command == "mock-server":
        from .testing import run

        run(host=args.host, port=args.port)
        return 0
    if args.command == "serve":
        from .relay import RelayPolicy
        from .relay.serve import serve

        policy = RelayPolicy(unwatched_timeout=args.unwatched_timeout)
        try:
            asyncio.run(serve(args.host, args.port, base_url=args.base_url, model=args.model,
                              policy=policy))
        except KeyboardInterrupt:
            return 130
        return 0
    try:
        return asyncio.run(_chat(args))
    except OxideRxError as exc:
        print(f"oxide-rx: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
