"""``oxide-rx``: stream a chat answer to the terminal, chat in a terminal app, or run the mock.

    oxide-rx chat "Write a haiku about Rust programming."
    oxide-rx chat --smooth --stats "Hi"
    oxide-rx chat --api responses --events "Hi"
    oxide-rx tui
    oxide-rx mock-server --port 8765
    oxide-rx serve --port 8080
    oxide-rx serve --port 8081 --redis redis://127.0.0.1:6379/0

Without ``OPENAI_API_KEY`` (and no ``--base-url``) ``chat``, ``tui`` and ``serve`` start the
built-in mock OpenAI server in-process and say so (on stderr / on screen), so they work offline.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Sequence
from typing import Any

import msgspec

from ._exceptions import OxideRxError
from .events import Chunk, ContentDelta, Event
from .operators import of_type, smooth
from .testing import client_or_mock

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
    chat.add_argument("--snapshots", action="store_true",
                      help="with --events: also print each event's snapshot (the text so far)")
    chat.add_argument("--smooth", action="store_true",
                      help="re-chunk the text into words, paced evenly (ox.ops.smooth)")
    chat.add_argument("--stats", action="store_true",
                      help="print a one-line summary on stderr at the end: TTFT, tokens/s, stalls")

    tui = commands.add_parser("tui", help="chat in a terminal app (needs the `tui` extra)")
    tui.add_argument("--model", default=DEFAULT_MODEL, help=f"default {DEFAULT_MODEL}")
    tui.add_argument("--system", help="a system message (instructions) for every turn")
    tui.add_argument("--base-url", help="API base URL (default: OPENAI_BASE_URL)")
    tui.add_argument("--api", choices=("chat", "responses"), default="chat",
                     help="Chat Completions (default) or the Responses API")
    tui.add_argument("--no-smooth", dest="smooth", action="store_false",
                     help="show text as it arrives instead of word by word")

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
    serve.add_argument("--redis", metavar="URL",
                       help="share generations with other nodes through Redis "
                            "(redis://[:password@]host:port/db; needs oxide_rx[redis])")
    return parser


# The text so far, repeated on every delta: printing it makes the output quadratic.
_SNAPSHOT_FIELDS = frozenset({"snapshot", "arguments_snapshot"})


def _print_event(event: Any, snapshots: bool = False) -> None:
    """One line per event: helper events as their repr (without their snapshot unless asked),
    wire objects as compact JSON."""
    if isinstance(event, Chunk):
        print(f"Chunk {_wire_json(event.chunk)}")
    elif isinstance(event, Event):
        fields = [name for name in type(event).__struct_fields__ if not name.startswith("_")]
        shown = [name for name in fields if snapshots or name not in _SNAPSHOT_FIELDS]
        body = ", ".join(f"{name}={getattr(event, name)!r}" for name in shown)
        print(f"{type(event).__name__}({body})")
    else:
        print(f"{type(event).__name__} {_wire_json(event)}")


def _wire_json(obj: Any) -> str:
    """The server's own JSON when the object kept it (``raw``), else the object re-encoded."""
    raw = getattr(obj, "raw", None)
    if isinstance(raw, bytes):
        return raw.decode("utf-8", "replace")
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
            # Usage (the last chunk) makes --stats count tokens rather than deltas.
            usage: dict[str, Any] = {}
            if args.stats:
                usage["stream_options"] = {"include_usage": True}
            stream = await client.chat.completions.create_stream(model=args.model,
                                                                 messages=messages, **usage)
        metrics = stream.metrics if args.stats else None
        async with stream:
            if args.events:
                events = stream.events.pipe(smooth()) if args.smooth else stream.events
                events.subscribe(lambda event: _print_event(event, args.snapshots))
            elif args.smooth:
                stream.events.pipe(of_type(ContentDelta), smooth()).subscribe(_print_delta)
            else:
                stream.on(ContentDelta, _print_delta)
            try:
                await stream.until_done()
            finally:
                if not args.events:
                    print()
                if metrics is not None:
                    print(f"oxide-rx: {metrics.metrics().summary()}", file=sys.stderr)
    return 0


def _print_delta(event: ContentDelta) -> None:
    print(event.delta, end="", flush=True)


def _tui(args: argparse.Namespace) -> int:
    try:
        from .ui.tui import ChatApp
    except ImportError as exc:
        print(f"oxide-rx: the terminal app needs Textual: pip install 'oxide_rx[tui]' ({exc})",
              file=sys.stderr)
        return 2
    app = ChatApp(api=args.api, model=args.model, system=args.system, base_url=args.base_url,
                  smooth=args.smooth)
    app.run()
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.command == "mock-server":
        from .testing import run

        run(host=args.host, port=args.port)
        return 0
    if args.command == "tui":
        return _tui(args)
    if args.command == "serve":
        from .relay import RelayPolicy
        from .relay.serve import serve

        policy = RelayPolicy(unwatched_timeout=args.unwatched_timeout)
        try:
            asyncio.run(serve(args.host, args.port, base_url=args.base_url, model=args.model,
                              policy=policy, redis=args.redis))
        except KeyboardInterrupt:
            return 130
        except (ImportError, ValueError, OxideRxError) as exc:  # no redis package, a bad URL
            print(f"oxide-rx: {exc}", file=sys.stderr)
            return 2
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
