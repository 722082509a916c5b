"""The same streams through the official client and through compat, compared object by object.

Each body (a recorded stream from ``../shared/corpus/openai``, or a random hostile-but-legal one
made by hypothesis: missing and null fields, unknown keys and event types, choices and items
out of order, lifecycles that contradict themselves, no ``[DONE]``) is served byte for byte by a
small aiohttp server on 127.0.0.1. Both clients read it four ways (Chat Completions or
Responses; ``create(stream=True)`` and the ``.stream()`` helper) and what they give must be the
same: the class name and ``model_dump()`` of every chunk, event and final object, and, where
one raises, the other raises the same exception class with the same message.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import threading
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from aiohttp import web
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from support import CORPUS, corpus_files, needs_shared

openai = pytest.importorskip("openai")
import oxide_rx.compat as compat  # noqa: E402

MISSING = object()


class BodyServer:
    """Serves registered bodies as ``text/event-stream``: ``/<token>/v1/...`` gets body
    ``<token>`` whatever the request (the clients' own requests do not matter here)."""

    def __init__(self) -> None:
        self.bodies: dict[str, bytes] = {}
        self.tokens = itertools.count()
        self.loop = asyncio.new_event_loop()
        self.url = ""
        ready = threading.Event()
        threading.Thread(target=self._main, args=(ready,), daemon=True).start()
        assert ready.wait(30), "the body server did not start"

    def _main(self, ready: threading.Event) -> None:
        asyncio.set_event_loop(self.loop)
        app = web.Application()
        app.router.add_route("*", "/{token}/v1/{tail:.*}", self._serve)
        self.runner = web.AppRunner(app, access_log=None)
        self.loop.run_until_complete(self.runner.setup())
        site = web.TCPSite(self.runner, "127.0.0.1", 0)
        self.loop.run_until_complete(site.start())
        self.url = f"http://127.0.0.1:{self.runner.addresses[0][1]}"
        ready.set()
        self.loop.run_forever()

    async def _serve(self, request: web.Request) -> web.Response:
        await request.read()
        body = self.bodies[request.match_info["token"]]
        return web.Response(body=body, content_type="text/event-stream")

    def base_url(self, body: bytes) -> str:
        token = str(next(self.tokens))
        self.bodies[token] = body
        return f"{self.url}/{token}/v1"

    def close(self) -> None:
        asyncio.run_coroutine_threadsafe(self.runner.cleanup(), self.loop).result(10)
        self.loop.call_soon_threadsafe(self.loop.stop)


@pytest.fixture(scope="module")
def bodies() -> Iterator[BodyServer]:
    server = BodyServer()
    yield server
    server.close()


def _dump(obj: Any) -> tuple[str, Any]:
    return type(obj).__name__, obj.model_dump()


async def _observe(module: ModuleType, base_url: str, api: str, helper: bool) -> list[Any]:
    """Everything one client gives for one body, read one way, and how it ended."""
    client = module.AsyncOpenAI(api_key="sk-test", base_url=base_url, max_retries=0)
    out: list[Any] = []
    try:
        if api == "chat" and helper:
            async with client.chat.completions.stream(model="m", messages=[]) as stream:
                out.extend([_dump(event) async for event in stream])
                out.append(_dump(await stream.get_final_completion()))
        elif api == "chat":
            raw = await client.chat.completions.create(model="m", messages=[], stream=True)
            out.extend([_dump(chunk) async for chunk in raw])
        elif helper:
            async with client.responses.stream(model="m", input="x") as events:
                out.extend([_dump(event) async for event in events])
                out.append(_dump(await events.get_final_response()))
        else:
            raw = await client.responses.create(model="m", input="x", stream=True)
            out.extend([_dump(event) async for event in raw])
    except Exception as exc:  # the comparison is the point: any exception, class and message
        out.append(("raised", type(exc).__name__, str(exc)))
    finally:
        await client.close()
    return out


def _observe_blocking(module: ModuleType, base_url: str, api: str, helper: bool) -> list[Any]:
    """:func:`_observe` with the blocking client (compat's runs the core on its loop thread
    and hands each item to this thread)."""
    client = module.OpenAI(api_key="sk-test", base_url=base_url, max_retries=0)
    out: list[Any] = []
    try:
        if api == "chat" and helper:
            with client.chat.completions.stream(model="m", messages=[]) as stream:
                out.extend([_dump(event) for event in stream])
                out.append(_dump(stream.get_final_completion()))
        elif api == "chat":
            out.extend(_dump(chunk) for chunk in client.chat.completions.create(
                model="m", messages=[], stream=True))
        elif helper:
            with client.responses.stream(model="m", input="x") as events:
                out.extend([_dump(event) for event in events])
                out.append(_dump(events.get_final_response()))
        else:
            out.extend(_dump(event) for event in client.responses.create(
                model="m", input="x", stream=True))
    except Exception as exc:
        out.append(("raised", type(exc).__name__, str(exc)))
    finally:
        client.close()
    return out


def _first_difference(official: Any, ours: Any, path: str = "") -> str:
    """Where two observations first differ (a path into them), for the failure message."""
    if isinstance(official, dict) and isinstance(ours, dict):
        for key in official.keys() | ours.keys():
            if official.get(key, MISSING) != ours.get(key, MISSING):
                return _first_difference(official.get(key, MISSING), ours.get(key, MISSING),
                                         f"{path}.{key}")
    if isinstance(official, (list, tuple)) and isinstance(ours, (list, tuple)):
        for position, (a, b) in enumerate(zip(official, ours, strict=False)):
            if a != b:
                return _first_difference(a, b, f"{path}[{position}]")
        if len(official) != len(ours):
            return f"{path}: lengths {len(official)} (official) and {len(ours)} (compat)"
    return f"{path}:\n  official {official!r}\n  compat   {ours!r}"


def assert_same(server: BodyServer, body: bytes, api: str) -> None:
    base_url = server.base_url(body)
    for helper in (False, True):
        official = asyncio.run(_observe(openai, base_url, api, helper))
        ours = asyncio.run(_observe(compat, base_url, api, helper))
        assert ours == official, (f"{'helper' if helper else 'raw'} {api}: "
                                  + _first_difference(official, ours))


def assert_same_blocking(server: BodyServer, body: bytes, api: str) -> None:
    base_url = server.base_url(body)
    for helper in (False, True):
        official = _observe_blocking(openai, base_url, api, helper)
        ours = _observe_blocking(compat, base_url, api, helper)
        assert ours == official, (f"blocking {'helper' if helper else 'raw'} {api}: "
                                  + _first_difference(official, ours))


# --- the corpus -----------------------------------------------------------------------------

RECORDINGS = corpus_files("chat-") + corpus_files("responses-")
# OpenAI-compatible servers' tool calls: no ``index``, or index 0 for every call.
COMPATIBLE = sorted((Path(__file__).parent.parent / "fixtures" / "compatible").glob("*.sse"))


@needs_shared
def test_the_corpus_is_there() -> None:
    assert len(RECORDINGS) >= 40, CORPUS


@needs_shared
@pytest.mark.parametrize("path", RECORDINGS, ids=lambda p: p.stem)
def test_a_recorded_stream_gives_what_the_official_client_gives(
    bodies: BodyServer, path: Path
) -> None:
    assert_same(bodies, path.read_bytes(), "chat" if path.name.startswith("chat-") else "responses")


@needs_shared
@pytest.mark.parametrize("path", RECORDINGS, ids=lambda p: p.stem)
def test_a_recorded_stream_read_by_a_blocking_client_gives_what_the_official_one_gives(
    bodies: BodyServer, path: Path
) -> None:
    assert_same_blocking(bodies, path.read_bytes(),
                         "chat" if path.name.startswith("chat-") else "responses")


@pytest.mark.parametrize("path", COMPATIBLE, ids=lambda p: p.stem)
def test_a_compatible_servers_tool_calls_give_what_the_official_client_gives(
    bodies: BodyServer, path: Path
) -> None:
    assert_same(bodies, path.read_bytes(), "chat")


# --- random hostile streams -----------------------------------------------------------------


def _sse(payloads: list[Any], done: bool) -> bytes:
    frames = [f"data: {json.dumps(p)}\n\n" for p in payloads]
    if done:
        frames.append("data: [DONE]\n\n")
    return "".join(frames).encode()


def _fields(**options: st.SearchStrategy[Any]) -> st.SearchStrategy[dict[str, Any]]:
    """A dict where each key may be missing, null, or one of its values."""
    return st.fixed_dictionaries({}, optional={
        key: st.one_of(st.none(), strategy) for key, strategy in options.items()})


_text = st.text(alphabet="ab {}\":,é", max_size=6)
# A tool call's first fragment names it, later ones add arguments (servers that send no
# ``index`` are tested on their own below).
_tool_call = st.one_of(
    st.builds(lambda index, name, arguments: {
        "index": index, "id": f"call_{index}", "type": "function",
        "function": {"name": name, "arguments": arguments}},
        st.integers(0, 1), st.sampled_from(["f", "g"]), _text),
    st.builds(lambda index, arguments: {"index": index, "function": {"arguments": arguments}},
              st.integers(0, 1), _text))
_delta = _fields(role=st.sampled_from(["assistant", "tool"]), content=_text, refusal=_text,
                 tool_calls=st.lists(_tool_call, max_size=2,
                                     unique_by=lambda call: call.get("index")),
                 x_unknown=st.integers())
_choice = st.fixed_dictionaries(
    {"index": st.integers(0, 1), "delta": _delta},
    optional={"finish_reason": st.one_of(st.none(), st.sampled_from(
        ["stop", "tool_calls", "weird"])), "logprobs": st.none()})
_chunk = st.fixed_dictionaries(
    {"choices": st.lists(_choice, max_size=2, unique_by=lambda choice: choice["index"])},
    optional={"id": st.just("chatcmpl-1"), "object": st.sampled_from(
        ["chat.completion.chunk", "chat.completion.chunk", "other"]),
        "created": st.integers(0, 2), "model": st.just("m"), "service_tier": st.none(),
        "usage": st.one_of(st.none(), st.fixed_dictionaries({
            "prompt_tokens": st.integers(0, 3), "completion_tokens": st.integers(0, 3),
            "total_tokens": st.integers(0, 6)}))})


def _choices_in_order(chunks: list[dict[str, Any]]) -> bool:
    """What servers send and the official helper relies on (it files choices and calls by
    position, adds up repeated roles, and goes on after a finish): indexes in order (sorted
    in a chunk; after it, those seen are 0..n-1), a call named by its first fragment, a
    role once per choice, nothing after a choice's finish. Chunks it skips do not count."""
    seen: dict[Any, set[int]] = {}  # choice index (or "choices") -> indexes seen
    for chunk in chunks:
        if chunk.get("object") != "chat.completion.chunk":
            continue  # not a chunk: the helper skips it
        lists = [("choices", [choice["index"] for choice in chunk["choices"]])]
        for choice in chunk["choices"]:
            if ("finished", choice["index"]) in seen:  # nothing after a choice's finish
                return False
            if choice.get("finish_reason"):
                seen[("finished", choice["index"])] = set()
            if choice["delta"].get("role") is not None:  # a role once: the helper adds up text
                if ("role", choice["index"]) in seen:
                    return False
                seen[("role", choice["index"])] = set()
            calls = choice["delta"].get("tool_calls") or []
            lists.append((choice["index"], [call["index"] for call in calls]))
            for call in calls:  # a call's first fragment is the one that names it
                new = call["index"] not in seen.get(choice["index"], set())
                if new != ("id" in call):
                    return False
        for key, indexes in lists:
            known = seen.setdefault(key, set())
            known |= set(indexes)
            if known != set(range(len(known))) or indexes != sorted(indexes):
                return False
    return True


@settings(max_examples=60, deadline=None, suppress_health_check=[
    HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(chunks=st.lists(_chunk, min_size=1, max_size=6), done=st.booleans())
def test_random_chat_streams_give_what_the_official_client_gives(
    bodies: BodyServer, chunks: list[dict[str, Any]], done: bool
) -> None:
    assume(_choices_in_order(chunks))
    assert_same(bodies, _sse(chunks, done), "chat")


def _response(status: str, output: Any) -> dict[str, Any]:
    response: dict[str, Any] = {"id": "resp_1", "object": "response", "created_at": 1,
                                "status": status, "model": "m", "tools": [],
                                "parallel_tool_calls": True, "tool_choice": "auto"}
    if output is not MISSING:
        response["output"] = output
    return response


_message = st.builds(lambda id_, status: {"id": id_, "type": "message", "role": "assistant",
                                          "status": status, "content": []},
                     st.sampled_from(["msg_1", "msg_2"]),
                     st.sampled_from(["in_progress", "completed"]))
_part = st.fixed_dictionaries({"type": st.just("output_text"), "text": _text,
                               "annotations": st.just([])})


def _event(kind: str, **fields: st.SearchStrategy[Any]) -> st.SearchStrategy[dict[str, Any]]:
    """An item or content event: its structural fields present (the official helper
    dereferences them unchecked), ``sequence_number`` maybe missing."""
    return st.fixed_dictionaries({"type": st.just(kind), **fields},
                                 optional={"sequence_number": st.integers(0, 9)})


_place = {"output_index": st.integers(0, 1), "item_id": st.sampled_from(["msg_1", "msg_2"]),
          "content_index": st.integers(0, 1)}
_lifecycle = st.builds(
    lambda kind, status, output: {"type": kind, "response": _response(status, output)},
    st.sampled_from(["response.created", "response.in_progress", "response.completed",
                     "response.incomplete", "response.failed"]),
    st.sampled_from(["in_progress", "completed", "incomplete", "failed"]),
    st.one_of(st.just(MISSING), st.none(), st.lists(_message, max_size=2)))
_created = st.one_of(
    st.builds(lambda output: {"type": "response.created", "sequence_number": 0,
                              "response": _response("in_progress", output)},
              st.one_of(st.just([]), st.just(MISSING), st.none())),
    _lifecycle)
_terminal = st.builds(
    lambda kind, output: {"type": kind, "response": _response(kind.split(".")[1], output)},
    st.sampled_from(["response.completed", "response.completed", "response.incomplete",
                     "response.failed"]),
    st.one_of(st.just(MISSING), st.none(), st.lists(_message, max_size=2)))
_middle = st.one_of(
    _lifecycle,
    _event("response.output_item.added", output_index=st.integers(0, 1), item=_message),
    _event("response.output_item.done", output_index=st.integers(0, 1), item=_message),
    _event("response.content_part.added", part=_part, **_place),
    _event("response.output_text.delta", delta=_text, logprobs=st.just([]), **_place),
    _event("response.output_text.delta", delta=_text, logprobs=st.just([]), **_place),
    _event("response.output_text.done", text=_text, logprobs=st.just([]), **_place),
    _event("response.content_part.done", part=_part, **_place),
    _event("response.something_new", x=st.integers()),
)
# Mostly a created event first and a terminal one last, so the helper gets past its first
# lifecycle check; everything in between is random (and may contradict itself).
_events = st.builds(lambda first, middle, last: [first, *middle, *last],
                    _created, st.lists(_middle, max_size=7), st.lists(_terminal, max_size=1))


@settings(max_examples=60, deadline=None, suppress_health_check=[
    HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(events=_events)
def test_random_responses_streams_give_what_the_official_client_gives(
    bodies: BodyServer, events: list[dict[str, Any]]
) -> None:
    assert_same(bodies, _sse(events, False), "responses")


def _delta_body(*deltas: dict[str, Any]) -> bytes:
    """A Responses body: a message (text part at 0, 0) and a function call (1), then
    ``deltas``; each event numbered unless it says otherwise."""
    message = {"id": "msg_1", "type": "message", "role": "assistant", "status": "in_progress",
               "content": []}
    call = {"id": "fc_1", "type": "function_call", "call_id": "call_1", "name": "f",
            "arguments": "", "status": "in_progress"}
    events = [
        {"type": "response.created", "response": _response("in_progress", [])},
        {"type": "response.output_item.added", "output_index": 0, "item": message},
        {"type": "response.content_part.added", "item_id": "msg_1", "output_index": 0,
         "content_index": 0, "part": {"type": "output_text", "text": "", "annotations": []}},
        {"type": "response.output_item.added", "output_index": 1, "item": call},
        *deltas,
    ]
    return _sse([{"sequence_number": n, **event} for n, event in enumerate(events)], done=False)


def _text_delta(delta: str, **fields: Any) -> dict[str, Any]:
    event = {"type": "response.output_text.delta", "item_id": "msg_1", "output_index": 0,
             "content_index": 0, "logprobs": [], "delta": delta, **fields}
    return {k: v for k, v in event.items() if v is not MISSING}


def _arguments_delta(delta: str, **fields: Any) -> dict[str, Any]:
    return {"type": "response.function_call_arguments.delta", "item_id": "fc_1",
            "output_index": 1, "delta": delta, **fields}


def test_every_shape_of_a_delta_gives_what_the_official_client_gives(bodies: BodyServer) -> None:
    # compat builds a well-formed delta's helper event from the core's decode and leaves the
    # rest to the official validation: each field a delta may lack, null or carry besides.
    token = {"token": "b", "logprob": -0.1, "top_logprobs": []}
    body = _delta_body(
        _text_delta("a"), _text_delta("b", logprobs=[token]),
        _text_delta("c", logprobs=MISSING),
        _text_delta("d", logprobs=None), _text_delta("e", obfuscation="xyz", x_unknown=1),
        _text_delta("f", sequence_number=None), _text_delta("g", sequence_number=MISSING),
        _arguments_delta('{"a'), _arguments_delta('": 1}', obfuscation="q"),
        _arguments_delta("", sequence_number=None),
    )
    assert_same(bodies, body, "responses")
    assert_same_blocking(bodies, body, "responses")


@pytest.mark.parametrize("fields", [
    {"sequence_number": "7"}, {"sequence_number": 7.5}, {"item_id": None}, {"item_id": 3},
    {"logprobs": "x"}, {"obfuscation": 5}, {"delta": None}, {"content_index": "0"},
], ids=["string-sequence-number", "float-sequence-number", "null-item-id", "int-item-id",
        "string-logprobs", "int-obfuscation", "null-delta", "string-content-index"])
def test_a_delta_with_a_wrongly_typed_field_it_does_not_read(
    bodies: BodyServer, fields: dict[str, Any]
) -> None:
    # The official helper accumulates such a delta (it reads only its place and text); the
    # core's lenient decode keeps it for that, and the official object comes from the raw.
    body = _delta_body(_text_delta("a"), {**_text_delta("b"), **fields}, _text_delta("c"))
    assert_same(bodies, body, "responses")
