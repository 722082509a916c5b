"""Bad payloads become typed errors that name the problem and show at most a short excerpt."""

from __future__ import annotations

import asyncio

import pytest
from support import ClientFactory

import oxide_rx as ox
from oxide_rx.testing import Fault, MockServer, Scenario

MESSAGES = [{"role": "user", "content": "Say hi."}]
TEXT = "Plain words, then trouble, then more plain words."
# Room for the message itself plus the 120-character excerpt and its ellipsis note.
SHORT = 400


@pytest.fixture
def client(make_client: ClientFactory) -> ox.OpenAI:
    """No retries: each test's bad payload is met once."""
    return make_client(max_retries=0)


async def _stream_error(
    server: MockServer, client: ox.OpenAI, fault: Fault
) -> tuple[ox.ChatStream, Exception]:
    server.enqueue(Scenario.text(TEXT, fault=fault))
    stream = await client.chat.completions.create_stream(model="m", messages=MESSAGES)
    with pytest.raises(ox.OxideRxError) as info:
        await asyncio.wait_for(stream.final_completion(), 10)
    await stream.aclose()
    return stream, info.value


async def test_malformed_json_is_a_decode_error_with_a_short_excerpt(
    server: MockServer, client: ox.OpenAI
) -> None:
    long_text = "word " * 400
    server.enqueue(Scenario.text(long_text, fault=Fault.malformed_json(at=3)))
    stream = await client.chat.completions.create_stream(model="m", messages=MESSAGES)
    with pytest.raises(ox.DecodeError) as info:
        await asyncio.wait_for(stream.final_completion(), 10)
    await stream.aclose()
    message = str(info.value)
    assert "Invalid JSON" in message
    assert len(message) < SHORT
    assert info.value.data is not None and len(info.value.data) < 200


async def test_malformed_json_keeps_the_events_before_it(
    server: MockServer, client: ox.OpenAI
) -> None:
    stream, error = await _stream_error(server, client, Fault.malformed_json(at=3))
    assert isinstance(error, ox.DecodeError)
    assert stream.current_content() == TEXT[:8]  # two 4-character deltas came first


async def test_invalid_utf8_becomes_replacement_characters_in_the_text(
    server: MockServer, client: ox.OpenAI
) -> None:
    server.enqueue(Scenario.text(TEXT, fault=Fault.invalid_utf8(at=2)))
    stream = await client.chat.completions.create_stream(model="m", messages=MESSAGES)
    completion = await asyncio.wait_for(stream.final_completion(), 10)
    content = completion.choices[0].message.content
    assert content is not None
    assert "\ufffd" in content
    assert content.replace("\ufffd", "") == TEXT


async def test_invalid_utf8_split_across_reads_gives_the_same_text(
    server: MockServer, client: ox.OpenAI
) -> None:
    fault = Fault.invalid_utf8(at=2) | Fault.chunking(1)
    server.enqueue(Scenario.text(TEXT, fault=fault))
    stream = await client.chat.completions.create_stream(model="m", messages=MESSAGES)
    completion = await asyncio.wait_for(stream.final_completion(), 30)
    content = completion.choices[0].message.content
    assert content is not None
    assert content.replace("\ufffd", "") == TEXT


async def test_an_html_page_with_status_200_is_a_decode_error_naming_it(
    server: MockServer, client: ox.OpenAI
) -> None:
    server.enqueue(Scenario.text(TEXT, fault=Fault.html_error()))
    with pytest.raises(ox.DecodeError) as info:
        await client.chat.completions.create_stream(model="m", messages=MESSAGES)
    message = str(info.value)
    assert "text/event-stream" in message and "text/html" in message
    assert "502 Bad Gateway" in message
    assert len(message) < SHORT


async def test_a_json_body_on_a_stream_request_is_a_decode_error_naming_it(
    server: MockServer, client: ox.OpenAI
) -> None:
    server.enqueue(Scenario.text(TEXT, fault=Fault.wrong_type()))
    with pytest.raises(ox.DecodeError) as info:
        await client.chat.completions.create_stream(model="m", messages=MESSAGES)
    assert "application/json" in str(info.value)
    assert len(str(info.value)) < SHORT


async def test_an_html_page_on_a_responses_stream_is_a_decode_error(
    server: MockServer, client: ox.OpenAI
) -> None:
    server.enqueue(Scenario.text(TEXT, fault=Fault.html_error()))
    with pytest.raises(ox.DecodeError, match="text/html"):
        await client.responses.create_stream(model="m", input="hi")


async def test_an_html_page_on_a_non_streaming_call_is_a_decode_error(
    server: MockServer, client: ox.OpenAI
) -> None:
    server.enqueue(Scenario.text(TEXT, fault=Fault.html_error()))
    with pytest.raises(ox.DecodeError) as info:
        await client.chat.completions.create(model="m", messages=MESSAGES)
    assert "text/html" in str(info.value)
    assert len(str(info.value)) < SHORT


async def test_an_html_page_on_a_non_streaming_responses_call_is_a_decode_error(
    server: MockServer, client: ox.OpenAI
) -> None:
    server.enqueue(Scenario.text(TEXT, fault=Fault.html_error()))
    with pytest.raises(ox.DecodeError, match="text/html"):
        await client.responses.create(model="m", input="hi")


async def test_malformed_json_on_a_non_streaming_call_is_a_decode_error(
    server: MockServer, client: ox.OpenAI
) -> None:
    server.enqueue(Scenario.text(TEXT, fault=Fault.malformed_json(at=0)))
    with pytest.raises(ox.DecodeError) as info:
        await client.chat.completions.create(model="m", messages=MESSAGES)
    assert len(str(info.value)) < SHORT


async def test_an_error_payload_mid_stream_is_a_typed_api_error(
    server: MockServer, client: ox.OpenAI
) -> None:
    server.enqueue(Scenario.response_error("server_error", "The model broke."))
    stream = await client.chat.completions.create_stream(model="m", messages=MESSAGES)
    with pytest.raises(ox.ResponseFailedError) as info:
        await asyncio.wait_for(stream.final_completion(), 10)
    await stream.aclose()
    assert info.value.code == "server_error"
    assert "The model broke." in str(info.value)


async def test_an_error_body_split_across_many_reads_is_parsed_whole(
    server: MockServer, client: ox.OpenAI
) -> None:
    message = "Slow down. " * 2000  # ~22 KB, written 512 bytes at a time
    server.enqueue(
        Scenario.error(400, message, code="too_fast", fault=Fault.chunking(512))
    )
    with pytest.raises(ox.BadRequestError) as info:
        await client.chat.completions.create_stream(model="m", messages=MESSAGES)
    assert info.value.code == "too_fast"
    assert info.value.body["message"] == message
