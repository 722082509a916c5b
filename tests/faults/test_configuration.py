"""Issue 10, holes 6 and 7: configuration that cannot work fails typed, when the client is built.

Credentials in the base URL never reach ``repr(client)``; a key together with URL
credentials, a base URL without a scheme, a line break in a key or header, and
``from_env()`` without a key are :class:`~oxide_rx.ConfigurationError` s (an
``OxideRxError`` and a ``ValueError``) whose message names the setting, not its value.
"""

from __future__ import annotations

import base64
from typing import Any

import pytest
from rawsocket import RawServer, chat_done, chat_text, event, head, respond, sse_head
from runs import MESSAGES

import oxide_rx as ox

KEY = "sk-canary-5f3a9d"
PASSWORD = "hunter2-canary"


def _secret_free(*texts: str) -> bool:
    return not any(KEY in text or PASSWORD in text for text in texts)


def test_url_credentials_are_masked_in_the_repr() -> None:
    client = ox.OpenAI(base_url=f"http://alice:{PASSWORD}@127.0.0.1:9/v1")
    assert PASSWORD not in repr(client) and "alice" not in repr(client)
    assert PASSWORD not in str(client)
    assert "127.0.0.1:9/v1" in repr(client)


def test_a_key_and_url_credentials_together_are_refused_at_construction() -> None:
    with pytest.raises(ox.ConfigurationError) as info:
        ox.OpenAI(api_key=KEY, base_url=f"http://alice:{PASSWORD}@127.0.0.1:9/v1")
    assert "credentials" in str(info.value)
    assert _secret_free(str(info.value), repr(info.value))


def test_an_authorization_header_and_url_credentials_together_are_refused() -> None:
    with pytest.raises(ox.ConfigurationError):
        ox.OpenAI(base_url=f"http://alice:{PASSWORD}@127.0.0.1:9/v1",
                  default_headers={"Authorization": f"Bearer {KEY}"})


async def test_url_credentials_alone_are_sent_as_basic_auth() -> None:
    answer = (sse_head("close") + event(chat_text("ok", "stop")) + chat_done())
    async with RawServer(respond(answer)) as server:
        url = server.base_url.replace("http://", f"http://alice:{PASSWORD}@")
        async with ox.OpenAI(base_url=url, max_retries=0) as client:
            stream = await client.chat.completions.create_stream(model="m", messages=MESSAGES)
            completion = await stream.final_completion()
    assert completion.choices[0].message.content == "ok"
    expected = base64.b64encode(f"alice:{PASSWORD}".encode()).decode()
    assert server.requests[0].headers["authorization"] == f"Basic {expected}"


@pytest.mark.parametrize("base_url", ["127.0.0.1:8765/v1", "localhost/v1", "api.openai.com"])
def test_a_base_url_without_scheme_is_refused_with_a_hint(base_url: str) -> None:
    with pytest.raises(ox.ConfigurationError) as info:
        ox.OpenAI(api_key=KEY, base_url=base_url, max_retries=2)
    assert f"did you mean 'http://{base_url}'" in str(info.value)


@pytest.mark.parametrize("base_url", ["ftp://127.0.0.1/v1", "ws://127.0.0.1/v1", "http:///v1",
                                      "http://", "http://exa mple.com/v1\n"])
def test_a_base_url_that_is_not_http_is_refused(base_url: str) -> None:
    with pytest.raises(ox.ConfigurationError):
        ox.OpenAI(api_key=KEY, base_url=base_url)


BAD_SETTINGS: dict[str, dict[str, Any]] = {
    "a key with a trailing newline": {"api_key": KEY + "\n"},
    "a key with CR LF and a header": {"api_key": KEY + "\r\nX-Evil: 1"},
    "a key with a pasted ellipsis": {"api_key": KEY + "\u2026"},
    "an organization with a newline": {"organization": "org-1\n"},
    "a project with a NUL": {"project": "proj\x00"},
    "a header value with CR LF": {"default_headers": {"X-Tag": f"a\r\nAuthorization: {KEY}"}},
    "a header name with a space": {"default_headers": {"X Tag": "a"}},
    "a header name with a colon": {"default_headers": {"X-Tag:": "a"}},
    "a negative max_retries": {"max_retries": -1},
    "a proxy without a usable scheme": {"proxy": "socks5://127.0.0.1:1080"},
    "a proxy with a newline": {"proxy": "http://127.0.0.1:3128\n"},
}


@pytest.mark.parametrize("setting", sorted(BAD_SETTINGS))
def test_unworkable_settings_are_a_configuration_error_at_construction(setting: str) -> None:
    options = {"api_key": KEY, "base_url": "http://127.0.0.1:9/v1", **BAD_SETTINGS[setting]}
    with pytest.raises(ox.ConfigurationError) as info:
        ox.OpenAI(**options)
    error = info.value
    assert isinstance(error, ox.OxideRxError) and isinstance(error, ValueError)
    assert _secret_free(str(error), repr(error))
    assert error.__cause__ is None and error.__context__ is None


async def test_a_bad_per_request_header_fails_typed_before_anything_is_sent() -> None:
    async with RawServer(respond(head(500, {"Content-Length": "0"}))) as server:
        client = ox.OpenAI(api_key=KEY, base_url=server.base_url)
        async with client:
            with pytest.raises(ox.ConfigurationError) as info:
                await client.chat.completions.create_stream(
                    model="m", messages=MESSAGES, extra_headers={"X-Trace": f"1\r\n{KEY}"})
    assert _secret_free(str(info.value))
    assert server.requests == []


def test_from_env_without_a_key_fails_at_construction(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    with pytest.raises(ox.ConfigurationError, match="OPENAI_API_KEY"):
        ox.OpenAI.from_env()
    monkeypatch.setenv("OPENAI_API_KEY", "")
    with pytest.raises(ox.ConfigurationError, match="OPENAI_API_KEY"):
        ox.OpenAI.from_env()


def test_from_env_takes_the_key_or_an_explicit_none(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", KEY)
    monkeypatch.setenv("OPENAI_BASE_URL", "http://127.0.0.1:9/v1")
    assert ox.OpenAI.from_env().api_key == KEY
    monkeypatch.delenv("OPENAI_API_KEY")
    keyless = ox.OpenAI.from_env(api_key=None)  # a local server that needs no key
    assert keyless.api_key is None and keyless.base_url == "http://127.0.0.1:9/v1"


def test_from_env_refuses_a_schemeless_base_url(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", KEY)
    monkeypatch.setenv("OPENAI_BASE_URL", "127.0.0.1:8765/v1")
    with pytest.raises(ox.ConfigurationError, match="did you mean"):
        ox.OpenAI.from_env()
