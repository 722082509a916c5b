"""What the differential programs cannot show: compat-only behaviour and its guarantees."""

from __future__ import annotations

import asyncio
import os
import re
import subprocess
import sys
import textwrap
import threading
from pathlib import Path

import msgspec
import pytest
from support import ServerThread

import oxide_rx.compat as compat
from oxide_rx.compat import AsyncOpenAI, OpenAI
from oxide_rx.compat._json import dump_json
from oxide_rx.compat._models import construct

COMPAT_DIR = Path(compat.__file__).parent


class City(msgspec.Struct):
    name: str
    population: int


CITY_JSON = '{"name": "Paris", "population": 2100000}'


def test_unsupported_resource_raises_not_implemented_naming_it(base_url: str) -> None:
    client = OpenAI(api_key="sk-test", base_url=base_url)
    with pytest.raises(NotImplementedError, match=r"client\.files"):
        _ = client.files
    client.close()


def test_unsupported_method_raises_not_implemented_naming_it(base_url: str) -> None:
    client = AsyncOpenAI(api_key="sk-test", base_url=base_url)
    with pytest.raises(NotImplementedError, match=r"client\.chat\.completions\.with_raw_resp"):
        _ = client.chat.completions.with_raw_response


def test_unsupported_resource_is_absent_for_hasattr(base_url: str) -> None:
    assert not hasattr(AsyncOpenAI(api_key="sk-test", base_url=base_url), "audio")


def test_unsupported_top_level_name_raises_not_implemented() -> None:
    with pytest.raises(NotImplementedError, match="AzureOpenAI"):
        _ = compat.AzureOpenAI


def test_missing_api_key_raises_openai_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    with pytest.raises(compat.OpenAIError, match="Missing credentials"):
        AsyncOpenAI()


def test_environment_configures_the_client(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-env")
    monkeypatch.setenv("OPENAI_BASE_URL", "http://127.0.0.1:9/v1")
    monkeypatch.setenv("OPENAI_ORG_ID", "org-1")
    monkeypatch.setenv("OPENAI_PROJECT_ID", "proj-1")
    client = AsyncOpenAI()
    assert (client.api_key, client.base_url, client.organization, client.project) == (
        "sk-env", "http://127.0.0.1:9/v1/", "org-1", "proj-1")


def test_http_client_option_is_refused() -> None:
    with pytest.raises(NotImplementedError, match="http_client"):
        OpenAI(api_key="sk-test", http_client=object())


async def test_parse_into_a_msgspec_struct(base_url: str) -> None:
    async with AsyncOpenAI(api_key="sk-test", base_url=base_url) as client:
        completion = await client.chat.completions.parse(
            model="m", messages=[{"role": "user", "content": "city"}], response_format=City,
            extra_headers={"X-Mock-Scenario": "text:" + CITY_JSON})
    assert completion.choices[0].message.parsed == City(name="Paris", population=2100000)


async def test_responses_parse_into_a_msgspec_struct(base_url: str) -> None:
    async with AsyncOpenAI(api_key="sk-test", base_url=base_url) as client:
        response = await client.responses.parse(
            model="m", input="city", text_format=City,
            extra_headers={"X-Mock-Scenario": "text:" + CITY_JSON})
    assert response.output_parsed == City(name="Paris", population=2100000)


def test_parsed_struct_dumps_as_json() -> None:
    message = construct("ParsedChatCompletionMessage", {"role": "assistant"})
    message.parsed = City(name="Oslo", population=1)
    assert '"parsed":{"name":"Oslo","population":1}' in message.model_dump_json()


def test_imports_and_parses_without_pydantic_or_openai(base_url: str) -> None:
    program = textwrap.dedent("""
        import sys
        sys.modules["pydantic"] = None  # any import of pydantic now fails
        import msgspec
        from oxide_rx.compat import OpenAI

        class City(msgspec.Struct):
            name: str

        client = OpenAI()
        completion = client.chat.completions.parse(
            model="m", messages=[], response_format=City,
            extra_headers={"X-Mock-Scenario": 'text:{"name": "Rome"}'})
        print(completion.choices[0].message.parsed.name, "openai" in sys.modules)
    """)
    env = {**os.environ, "OPENAI_API_KEY": "sk-test", "OPENAI_BASE_URL": base_url}
    result = subprocess.run([sys.executable, "-c", program], capture_output=True, text=True,
                            env=env, timeout=60)
    assert result.stdout.strip() == "Rome False", result.stderr


def test_compat_sources_never_import_openai() -> None:
    statement = re.compile(r"^\s*(from|import) openai\b", re.MULTILINE)
    for path in COMPAT_DIR.glob("*.py"):
        assert not statement.search(path.read_text()), path.name


def test_async_client_left_open_is_closed_when_its_loop_ends() -> None:
    # A server of its own: the connection counts are this test's alone.
    thread = ServerThread()
    with thread as server:
        client = AsyncOpenAI(api_key="sk-test", base_url=server.base_url)

        async def main() -> None:
            await client.models.retrieve("gpt-4o")
            assert server.open_connections == 1  # kept alive in the client's pool

        asyncio.run(main())
        # The client was never closed, yet the server sees its connection gone.
        thread.call(server.wait_for_open_connections(0))
        assert server.accepted_connections == 1


def test_sync_stream_iterates_from_a_worker_thread(base_url: str) -> None:
    client = OpenAI(api_key="sk-test", base_url=base_url)
    texts: list[str] = []

    def work() -> None:
        stream = client.chat.completions.create(
            model="m", messages=[], stream=True,
            extra_headers={"X-Mock-Scenario": "text:from a thread"})
        texts.append("".join(c.choices[0].delta.content or "" for c in stream))

    worker = threading.Thread(target=work)
    worker.start()
    worker.join(30)
    client.close()
    assert texts == ["from a thread"]


def test_floats_are_written_like_pydantic() -> None:
    assert dump_json([1e-05, 2.5e-07, 0.1, 1e16, 3.0]) == "[0.00001,2.5e-7,0.1,1e+16,3.0]"


def test_to_json_keeps_only_what_the_api_sent() -> None:
    usage = construct("CompletionUsage", {"prompt_tokens": 1, "completion_tokens": 2,
                                          "total_tokens": 3, "x_new": None})
    assert usage.to_json(indent=None) == (
        '{"completion_tokens":2,"prompt_tokens":1,"total_tokens":3,"x_new":null}')
    assert usage.model_dump()["completion_tokens_details"] is None


def test_timeout_none_means_no_deadline_as_in_the_official_client(base_url: str) -> None:
    client = OpenAI(base_url=base_url, api_key="sk-test", timeout=0.05, max_retries=0)
    slow = {"X-Mock-Fault": "headers_delay=0.3"}
    messages = [{"role": "user", "content": "Hi"}]
    with pytest.raises(compat.APITimeoutError):
        client.chat.completions.create(model="m", messages=messages, extra_headers=slow)
    completion = client.chat.completions.create(
        model="m", messages=messages, extra_headers=slow, timeout=None
    )
    assert completion.choices[0].message.content
    client.close()
