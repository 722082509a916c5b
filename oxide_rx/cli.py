"""``oxide-rx``: stream a chat answer to the terminal, chat in a terminal app, or run the mock.

    oxide-rx chat "Write a haiku about Rust programming."
    oxide-rx chat --smooth --stats "Hi"
    oxide-rx chat --api responses --events "Hi"
    echo "Hi" | oxide-rx chat -
    oxide-rx chat --ws "Pick a city" --turn "Why that one?"
    oxide-rx tui
    oxide-rx mock-server --port 8765
    oxide-rx serve --port 8080
    oxide-rx serve --port 8081 --redis redis://127.0.0.1:6379/0

Without ``OPENAI_API_KEY`` (and no ``--base-url``) ``chat``, ``tui`` and ``serve`` start the
built-in mock OpenAI server in-process and say so (on stderr / on screen), so they work offline.
When the reader of stdout goes away (``oxide-rx chat ... | head -c 20``) the request is
stopped and the command exits quietly (status 0).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import errno
import os
import sys
from collections.abc import Sequence
from typing import Any

import msgspec

from ._exceptions import OxideRxError
from ._transport.timeouts import Timeout
from ._version import __version__
from .events import Chunk, ContentDelta, Event
from .operators import of_type, smooth
from .testing import client_or_mock

__all__ = ["main"]

DEFAULT_MODEL = "gpt-4o-mini"
# The help text is plain text: argparse prints it as it is (no reST or Markdown markup).
DESCRIPTION = ("oxide-rx: stream a chat answer to the terminal, chat in a terminal app, "
               "or run the mock OpenAI server.")
EPILOG = """examples:
  oxide-rx chat "Write a haiku about Rust programming."
  oxide-rx chat --api responses --events "Hi"
  echo "Hi" | oxide-rx chat -
  oxide-rx mock-server --port 8765

Without OPENAI_API_KEY (and no --base-url) chat, tui and serve use the built-in mock server."""


def _positive_seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number of seconds: {text!r}") from None
    if not value > 0:
        raise argparse.ArgumentTypeError(f"must be more than 0 seconds, not {text}")
    return value


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="oxide-rx", description=DESCRIPTION, epilog=EPILOG,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--version", action="version", version=f"oxide-rx {__version__}")
    commands = parser.add_subparsers(dest="command", required=True)

    chat = commands.add_parser("chat", help="stream an answer to a prompt")
    chat.add_argument("prompt", help="what to ask ('-' reads it from stdin)")
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
    chat.add_argument("--timeout", type=_positive_seconds, metavar="SECONDS",
                      help="give up when the response headers, or the next event, take longer")
    chat.add_argument("--ws", action="store_true",
                      help="the Responses API over one WebSocket session (turns chain by "
                           "themselves; falls back to SSE where the server has no WebSocket mode)")
    chat.add_argument("--turn", action="append", default=[], metavar="PROMPT",
                      help="with --ws: a follow-up prompt, sent on the same connection after "
                           "the answer (repeat for more turns)")

    tui = commands.add_parser("tui", help="chat in a terminal app (needs the tui extra)")
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


class _Stdout:
    """stdout that notices its reader leaving (``| head``) instead of raising at every write.

    Once a write finds the pipe closed, :attr:`closed` is set (the command then stops the
    request) and the file descriptor is pointed at /dev/null, so the interpreter's own flush
    at exit does not print ``BrokenPipeError`` either.
    """

    def __init__(self) -> None:
        self.closed = asyncio.Event()

    def write(self, text: str, *, flush: bool = True) -> None:
        if self.closed.is_set():
            return
        try:
            sys.stdout.write(text)
            if flush:
                sys.stdout.flush()
        except (BrokenPipeError, ValueError):  # ValueError: stdout itself was closed
            self.closed.set()
            with contextlib.suppress(OSError, ValueError):
                devnull = os.open(os.devnull, os.O_WRONLY)
                os.dup2(devnull, sys.stdout.fileno())
                os.close(devnull)


def _event_line(event: Any, snapshots: bool = False) -> str:
    """One line per event: helper events as their repr (without their snapshot unless asked),
    wire objects as compact JSON."""
    if isinstance(event, Chunk):
        return f"Chunk {_wire_json(event.chunk)}\n"
    if isinstance(event, Event):
        fields = [name for name in type(event).__struct_fields__ if not name.startswith("_")]
        shown = [name for name in fields if snapshots or name not in _SNAPSHOT_FIELDS]
        body = ", ".join(f"{name}={getattr(event, name)!r}" for name in shown)
        return f"{type(event).__name__}({body})\n"
    return f"{type(event).__name__} {_wire_json(event)}\n"


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
    out = _Stdout()
    options = _client_options(args)
    if args.ws:
        return await _chat_ws(args, out, options)
    async with client_or_mock(args.base_url, **options) as client:
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
        await _consume(stream, args, out)
    return 0


def _client_options(args: argparse.Namespace) -> dict[str, Any]:
    if args.timeout is None:
        return {}
    return {"timeout": Timeout(headers=args.timeout, idle=args.timeout)}


async def _chat_ws(args: argparse.Namespace, out: _Stdout, options: dict[str, Any]) -> int:
    """Every prompt (the first, then each ``--turn``) on one WebSocket session, chained."""
    defaults: dict[str, Any] = {"model": args.model}
    if args.system:
        defaults["instructions"] = args.system
    async with (client_or_mock(args.base_url, **options) as client,
                await client.responses.connect(defaults=defaults) as session):
        for prompt in [args.prompt, *args.turn]:
            if not await _consume(await session.create_stream(input=prompt), args, out):
                break
    return 0


async def _consume(stream: Any, args: argparse.Namespace, out: _Stdout) -> bool:
    """Print ``stream`` as the flags say, until it ends (True) or stdout closes (False)."""
    metrics = stream.metrics if args.stats else None

    def print_delta(event: ContentDelta) -> None:
        out.write(event.delta)

    async with stream:
        if args.events:
            events = stream.events.pipe(smooth()) if args.smooth else stream.events
            events.subscribe(lambda event: out.write(_event_line(event, args.snapshots)))
        elif args.smooth:
            stream.events.pipe(of_type(ContentDelta), smooth()).subscribe(print_delta)
        else:
            stream.on(ContentDelta, print_delta)
        try:
            return await _until_done_or_closed(stream, out)
        finally:
            if not args.events:
                out.write("\n")
            if metrics is not None:
                print(f"oxide-rx: {metrics.metrics().summary()}", file=sys.stderr)


async def _until_done_or_closed(stream: Any, out: _Stdout) -> bool:
    """Wait for the stream to end (True; raises what ended it) or stdout to close (False:
    the stream is closed, which aborts the request)."""
    done = asyncio.ensure_future(stream.until_done())
    closed = asyncio.ensure_future(out.closed.wait())
    try:
        await asyncio.wait({done, closed}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        closed.cancel()
    if out.closed.is_set():
        done.cancel()
        await stream.aclose()
        with contextlib.suppress(asyncio.CancelledError, OxideRxError):
            await done
        return False
    await done
    return True


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


_LISTEN_ERRORS = frozenset({errno.EADDRINUSE, errno.EACCES, errno.EADDRNOTAVAIL})


def _cannot_listen(host: str, port: int, exc: OSError) -> int:
    if exc.errno not in _LISTEN_ERRORS:
        raise exc
    hint = " (another server uses it? pick another --port)" if exc.errno == errno.EADDRINUSE else ""
    print(f"oxide-rx: cannot listen on {host}:{port}: {os.strerror(exc.errno or 0)}{hint}",
          file=sys.stderr)
    return 1


def _read_prompt(prompt: str) -> str | None:
    """The prompt, read from stdin when it is ``-``; ``None`` when stdin gave nothing."""
    if prompt != "-":
        return prompt
    text = sys.stdin.read().strip()
    return text or None


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.command == "mock-server":
        from .testing import run

        try:
            run(host=args.host, port=args.port)
        except OSError as exc:
            return _cannot_listen(args.host, args.port, exc)
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
        except OSError as exc:
            return _cannot_listen(args.host, args.port, exc)
        except (ImportError, ValueError, OxideRxError) as exc:  # no redis package, a bad URL
            print(f"oxide-rx: {exc}", file=sys.stderr)
            return 2
        return 0
    prompt = _read_prompt(args.prompt)
    if prompt is None:
        print("oxide-rx: no prompt: stdin was empty", file=sys.stderr)
        return 2
    args.prompt = prompt
    try:
        return asyncio.run(_chat(args))
    except OxideRxError as exc:
        print(f"oxide-rx: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
