"""Retries happen before the first event only, with the official SDKs' rules (issue 4).

Every test runs the client against the real mock server on a loopback socket and checks what
the user gets: the error type, ``error.retries``, how many requests the server saw and how
far apart the retries were (the wait the client announces in its DEBUG log, and the gap the
server measured between the requests: never the test's own clock).
"""

from __future__ import annotations

import asyncio
import email.utils
import itertools
import logging
import re
import socket
import time

import pytest
from support import ClientFactory, assert_connection_released

import oxide_rx as ox
from oxide_rx._transport.retry import MAX_BACKOFF, backoff_delay, retry_after
from oxide_rx.testing import Fault, MockServer, Scenario

MESSAGES = [{"role": "user", "content": "Say hi."}]
FAST = {"retry-after-ms": "1"}


def _chat_requests(server: MockServer) -> int:
    return sum(1 for r in server.requests if r.path.endswith("/chat/completions"))


def _gaps(server: MockServer) -> list[float]:
    """Seconds between consecutive chat requests, as the server received them."""
    times = [r.received_at for r in server.requests if r.path.endswith("/chat/completions")]
    return [later - earlier for earlier, later in itertools.pairwise(times)]


def _announced_waits(caplog: pytest.LogCaptureFixture) -> list[float]:
    """The wait before each retry, in seconds, as the client logs it at DEBUG."""
    waits = []
    for record in caplog.records:
        message = record.getMessage()
        if message.startswith("retrying"):
            found = re.search(r" in ([0-9.]+) ?s\b", message)
            assert found, message
            waits.append(float(found.group(1)))
    return waits


@pytest.mark.parametrize("status", [408, 409, 429, 500, 503])
async def test_retryable_status_then_success_streams_the_answer(
    server: MockServer, make_client: ClientFactory, status: int
) -> None:
    client = make_client()
    server.enqueue(Scenario.error(status, headers=FAST), Scenario.text("ok then"))
    stream = await client.chat.completions.create_stream(model="m", messages=MESSAGES)
    completion = await stream.final_completion()
    assert completion.choices[0].message.content == "ok then"
    assert _chat_requests(server) == 2


async def test_n_failures_then_success_uses_n_retries(
    server: MockServer, make_client: ClientFactory
) -> None:
    client = make_client(max_retries=3)
    server.enqueue(*[Scenario.error(503, headers=FAST)] * 3, Scenario.text("third time"))
    stream = await client.chat.completions.create_stream(model="m", messages=MESSAGES)
    assert (await stream.final_completion()).choices[0].message.content == "third time"
    assert _chat_requests(server) == 4


async def test_exhausted_retries_raise_the_last_status_with_the_retry_count(
    server: MockServer, make_client: ClientFactory
) -> None:
    client = make_client(max_retries=2)
    server.enqueue(*[Scenario.error(500, headers=FAST)] * 3)
    with pytest.raises(ox.InternalServerError) as info:
        await client.chat.completions.create_stream(model="m", messages=MESSAGES)
    assert info.value.retries == 2
    assert _chat_requests(server) == 3


async def test_retries_are_spaced_by_a_small_retry_after_ms(
    server: MockServer, make_client: ClientFactory, caplog: pytest.LogCaptureFixture
) -> None:
    client = make_client(max_retries=3)
    server.enqueue(*[Scenario.error(429, headers={"retry-after-ms": "50"})] * 3)
    server.enqueue(Scenario.text("ok"))
    with caplog.at_level(logging.DEBUG, logger="oxide_rx"):
        stream = await client.chat.completions.create_stream(model="m", messages=MESSAGES)
    await stream.aclose()
    # Three 50 ms waits; the default backoff would wait at least 0.375, 0.75 and 1.5 s.
    assert _announced_waits(caplog) == [0.05, 0.05, 0.05]
    gaps = _gaps(server)
    assert len(gaps) == 3
    assert all(gap >= 0.05 for gap in gaps)  # and each one was waited out


async def test_retry_after_seconds_is_honoured(
    server: MockServer, make_client: ClientFactory, caplog: pytest.LogCaptureFixture
) -> None:
    client = make_client(max_retries=1)
    server.enqueue(Scenario.error(429, headers={"retry-after": "0.2"}), Scenario.text("ok"))
    with caplog.at_level(logging.DEBUG, logger="oxide_rx"):
        stream = await client.chat.completions.create_stream(model="m", messages=MESSAGES)
    await stream.aclose()
    assert _announced_waits(caplog) == [0.2]
    [gap] = _gaps(server)
    assert gap >= 0.2


async def test_retry_after_beyond_the_cap_fails_at_once(
    server: MockServer, make_client: ClientFactory, caplog: pytest.LogCaptureFixture
) -> None:
    client = make_client(max_retries=2)
    server.enqueue(Scenario.error(429, headers={"retry-after": "3600"}))
    with (
        caplog.at_level(logging.DEBUG, logger="oxide_rx"),
        pytest.raises(ox.RateLimitError) as info,
    ):
        await client.chat.completions.create_stream(model="m", messages=MESSAGES)
    assert _announced_waits(caplog) == []  # no wait was even started
    assert info.value.retries == 0
    assert _chat_requests(server) == 1


@pytest.mark.parametrize(
    ("status", "error_type"),
    [(400, ox.BadRequestError), (401, ox.AuthenticationError), (404, ox.NotFoundError)],
)
async def test_client_errors_are_not_retried(
    server: MockServer, make_client: ClientFactory, status: int, error_type: type[Exception]
) -> None:
    client = make_client(max_retries=3)
    server.enqueue(Scenario.error(status, headers=FAST), Scenario.text("never"))
    with pytest.raises(error_type) as info:
        await client.chat.completions.create_stream(model="m", messages=MESSAGES)
    assert isinstance(info.value, ox.APIStatusError)
    assert info.value.retries == 0
    assert _chat_requests(server) == 1


async def test_x_should_retry_false_overrides_a_retryable_status(
    server: MockServer, make_client: ClientFactory
) -> None:
    client = make_client(max_retries=3)
    server.enqueue(Scenario.error(503, headers={**FAST, "x-should-retry": "false"}))
    with pytest.raises(ox.InternalServerError):
        await client.chat.completions.create_stream(model="m", messages=MESSAGES)
    assert _chat_requests(server) == 1


async def test_x_should_retry_true_overrides_a_client_error(
    server: MockServer, make_client: ClientFactory
) -> None:
    client = make_client(max_retries=3)
    server.enqueue(Scenario.error(400, headers={**FAST, "x-should-retry": "true"}))
    server.enqueue(Scenario.text("retried"))
    stream = await client.chat.completions.create_stream(model="m", messages=MESSAGES)
    assert (await stream.final_completion()).choices[0].message.content == "retried"
    assert _chat_requests(server) == 2


async def test_per_request_max_retries_overrides_the_client(
    server: MockServer, make_client: ClientFactory
) -> None:
    client = make_client(max_retries=5)
    server.enqueue(Scenario.error(503, headers=FAST), Scenario.text("not reached"))
    with pytest.raises(ox.InternalServerError) as info:
        await client.chat.completions.create_stream(
            model="m", messages=MESSAGES, max_retries=0
        )
    assert info.value.retries == 0
    assert _chat_requests(server) == 1


async def test_each_retry_is_logged_at_debug(
    server: MockServer, make_client: ClientFactory, caplog: pytest.LogCaptureFixture
) -> None:
    client = make_client(max_retries=2)
    server.enqueue(*[Scenario.error(502, headers=FAST)] * 3)
    with caplog.at_level(logging.DEBUG, logger="oxide_rx"), pytest.raises(ox.APIStatusError):
        await client.chat.completions.create_stream(model="m", messages=MESSAGES)
    retries = [r for r in caplog.records if r.getMessage().startswith("retrying")]
    assert [r.levelno for r in retries] == [logging.DEBUG, logging.DEBUG]
    assert "retry 2 of 2" in retries[-1].getMessage()


async def test_error_responses_are_released_before_the_next_attempt(
    server: MockServer, make_client: ClientFactory
) -> None:
    client = make_client(max_retries=2)
    server.enqueue(*[Scenario.error(500, headers=FAST)] * 3)
    with pytest.raises(ox.InternalServerError):
        await client.chat.completions.create_stream(model="m", messages=MESSAGES)
    # Each error body was read whole and its connection handed back: every attempt reused it.
    assert server.accepted_connections == 1
    await assert_connection_released(server, client)
    assert server.accepted_connections == 1


async def test_an_unfinished_error_response_is_closed_before_the_retry_wait(
    server: MockServer, make_client: ClientFactory
) -> None:
    # The error body never ends: the client reads what it can within the idle deadline,
    # then must close that connection itself before sleeping.
    stalled = Scenario.error(
        503, headers={"retry-after-ms": "500"}, fault=Fault.stall_after(0, max_seconds=10)
    )
    client = make_client(max_retries=1, timeout=ox.Timeout(idle=0.1))
    server.enqueue(stalled, Scenario.text("ok"))
    attempt = asyncio.create_task(
        client.chat.completions.create_stream(model="m", messages=MESSAGES)
    )
    await server.wait_for_disconnects(1, timeout=5)
    await server.wait_for_open_connections(0)  # closed by the client ...
    assert not attempt.done()  # ... while it still waits to retry
    assert _chat_requests(server) == 1
    stream = await asyncio.wait_for(attempt, 5)
    assert (await stream.final_completion()).choices[0].message.content == "ok"
    assert server.accepted_connections == 2  # the retry could not reuse the closed one


async def test_a_stream_broken_mid_body_is_never_resent(
    server: MockServer, make_client: ClientFactory
) -> None:
    client = make_client(max_retries=3, max_connections=1)
    server.enqueue(Scenario.text("x" * 200, fault=Fault.drop_after(4)))
    stream = await client.chat.completions.create_stream(model="m", messages=MESSAGES)
    with pytest.raises(ox.APIConnectionError):
        await stream.final_completion()
    await stream.aclose()
    assert _chat_requests(server) == 1
    await assert_connection_released(server, client)  # the broken one holds no pool slot


async def test_non_streaming_calls_retry_too(
    server: MockServer, make_client: ClientFactory
) -> None:
    client = make_client()
    server.enqueue(Scenario.error(503, headers=FAST), Scenario.text("plain"))
    completion = await client.chat.completions.create(model="m", messages=MESSAGES)
    assert completion.choices[0].message.content == "plain"
    assert _chat_requests(server) == 2


async def test_connection_refused_is_retried_then_a_connection_error() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    # Nothing listens on the port now: every connect is refused at once.
    client = ox.OpenAI(base_url=f"http://127.0.0.1:{port}/v1", api_key="sk-test", max_retries=1)
    async with client:
        with pytest.raises(ox.APIConnectionError) as info:
            await client.chat.completions.create_stream(model="m", messages=MESSAGES)
    assert type(info.value) is ox.APIConnectionError
    assert info.value.retries == 1


def test_negative_max_retries_is_refused() -> None:
    with pytest.raises(ValueError, match="max_retries"):
        ox.OpenAI(api_key="sk-test", max_retries=-1)


def test_backoff_grows_with_jitter_and_is_capped() -> None:
    first = [backoff_delay(0) for _ in range(200)]
    assert all(0.375 <= d <= 0.5 for d in first)
    assert len(set(first)) > 1
    assert all(0.75 * MAX_BACKOFF <= backoff_delay(n) <= MAX_BACKOFF for n in (5, 10, 1000))


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ({"retry-after-ms": "50"}, 0.05),
        ({"retry-after-ms": "50", "retry-after": "9"}, 0.05),
        ({"retry-after-ms": "soon", "retry-after": "2"}, 2.0),
        ({"retry-after": "1.5"}, 1.5),
        ({"retry-after": "nan"}, None),
        ({"retry-after": "inf"}, None),
        ({"retry-after": "not a date"}, None),
        ({"retry-after": ""}, None),
        ({"retry-after": "Fri, 31 Dec 100000 23:59:59 GMT"}, None),
        ({}, None),
    ],
)
def test_retry_after_parsing(headers: dict[str, str], expected: float | None) -> None:
    assert retry_after(headers) == expected


def test_retry_after_accepts_an_http_date() -> None:
    when = email.utils.formatdate(time.time() + 30, usegmt=True)
    delay = retry_after({"retry-after": when})
    assert delay is not None
    assert 28 <= delay <= 31


async def test_a_status_error_keeps_the_response_headers_but_no_credentials(
    server: MockServer, make_client: ClientFactory
) -> None:
    headers = {
        "retry-after": "1",
        "x-ratelimit-remaining-requests": "0",
        "set-cookie": "session=secret",
    }
    server.enqueue(Scenario.error(429, message="Slow down", headers=headers))
    client = make_client(max_retries=0)
    with pytest.raises(ox.RateLimitError) as info:
        await client.chat.completions.create_stream(model="m", messages=[])
    error_headers = info.value.headers
    assert error_headers["retry-after"] == "1"
    assert error_headers["x-ratelimit-remaining-requests"] == "0"
    assert error_headers["x-request-id"] == info.value.request_id
    assert "set-cookie" not in error_headers
