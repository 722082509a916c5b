"""Issue 10, hole 8: proxies, as the official client honours them, through a real forward proxy.

``HTTPS_PROXY`` / ``HTTP_PROXY`` / ``ALL_PROXY`` (lower case wins), ``NO_PROXY``, an explicit
``proxy=`` (used for everything, the environment ignored) and ``trust_env=False``; for the
client, the compat client and the CLI. The proxy (``forward_proxy.py``) is an asyncio server
on 127.0.0.1 that relays absolute-URI requests and tunnels ``CONNECT``.
"""

from __future__ import annotations

import asyncio
import os
import socket
import sys

import pytest
from forward_proxy import ForwardProxy
from rawsocket import RawServer, respond
from runs import HANG, MESSAGES

import oxide_rx as ox
from oxide_rx._transport.proxies import ProxySettings
from oxide_rx.testing import MockServer, Scenario

PROXY_VARIABLES = ("http_proxy", "https_proxy", "all_proxy", "no_proxy")
PASSWORD = "proxy-canary-pw"


@pytest.fixture(autouse=True)
def clean_proxy_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """Each test sets the variables it means; none leaks in from the machine."""
    for name in PROXY_VARIABLES:
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.upper(), raising=False)


async def _chat(client: ox.OpenAI) -> str:
    stream = await client.chat.completions.create_stream(model="m", messages=MESSAGES)
    completion = await asyncio.wait_for(stream.final_completion(), HANG)
    return completion.choices[0].message.content or ""


@pytest.mark.parametrize("variable", ["HTTP_PROXY", "http_proxy", "ALL_PROXY"])
async def test_the_environment_proxy_carries_http_requests(
    monkeypatch: pytest.MonkeyPatch, variable: str
) -> None:
    async with ForwardProxy() as proxy, MockServer() as server:
        monkeypatch.setenv(variable, proxy.url)
        server.enqueue(Scenario.text("through the proxy"))
        async with ox.OpenAI(api_key="sk-test", base_url=server.base_url) as client:
            assert await _chat(client) == "through the proxy"
    assert [(r.method, r.target) for r in proxy.requests] == [
        ("POST", f"{server.base_url}/chat/completions")]
    assert len(server.requests) == 1


async def test_lower_case_variables_win_over_upper_case(monkeypatch: pytest.MonkeyPatch) -> None:
    async with ForwardProxy() as used, ForwardProxy() as ignored, MockServer() as server:
        monkeypatch.setenv("HTTP_PROXY", ignored.url)
        monkeypatch.setenv("http_proxy", used.url)
        async with ox.OpenAI(api_key="sk-test", base_url=server.base_url) as client:
            await _chat(client)
    assert len(used.requests) == 1 and ignored.requests == []


@pytest.mark.parametrize("no_proxy", ["127.0.0.1", "*", "localhost,127.0.0.0/8",
                                      "example.com, 127.0.0.1"])
async def test_no_proxy_hosts_are_reached_directly(
    monkeypatch: pytest.MonkeyPatch, no_proxy: str
) -> None:
    async with ForwardProxy() as proxy, MockServer() as server:
        monkeypatch.setenv("HTTP_PROXY", proxy.url)
        monkeypatch.setenv("NO_PROXY", no_proxy)
        async with ox.OpenAI(api_key="sk-test", base_url=server.base_url) as client:
            await _chat(client)
    assert proxy.requests == []
    assert len(server.requests) == 1


async def test_an_explicit_proxy_wins_and_ignores_no_proxy(monkeypatch: pytest.MonkeyPatch) -> None:
    async with ForwardProxy() as explicit, ForwardProxy() as env, MockServer() as server:
        monkeypatch.setenv("HTTP_PROXY", env.url)
        monkeypatch.setenv("NO_PROXY", "*")
        client = ox.OpenAI(api_key="sk-test", base_url=server.base_url, proxy=explicit.url)
        async with client:
            await _chat(client)
    assert len(explicit.requests) == 1 and env.requests == []


async def test_trust_env_false_ignores_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    async with ForwardProxy() as proxy, MockServer() as server:
        monkeypatch.setenv("HTTP_PROXY", proxy.url)
        client = ox.OpenAI(api_key="sk-test", base_url=server.base_url, trust_env=False)
        async with client:
            await _chat(client)
    assert proxy.requests == []


async def test_proxy_credentials_are_sent_and_never_shown() -> None:
    async with ForwardProxy(user="bob", password=PASSWORD) as proxy, MockServer() as server:
        client = ox.OpenAI(api_key="sk-test", base_url=server.base_url, proxy=proxy.url)
        async with client:
            await _chat(client)
        assert PASSWORD not in repr(client)
    assert proxy.requests[0].headers["proxy-authorization"].startswith("Basic ")


async def test_wrong_proxy_credentials_are_a_typed_error_without_the_password() -> None:
    async with ForwardProxy(user="bob", password="right") as proxy, MockServer() as server:
        wrong = proxy.url.replace("right", PASSWORD)
        client = ox.OpenAI(api_key="sk-test", base_url=server.base_url, proxy=wrong)
        async with client:
            with pytest.raises(ox.APIStatusError) as info:
                await client.chat.completions.create_stream(model="m", messages=MESSAGES)
    assert info.value.status_code == 407
    assert PASSWORD not in str(info.value) and PASSWORD not in repr(info.value.headers)
    assert len(proxy.requests) == 1  # a 407 is not retried
    assert server.requests == []


async def test_https_goes_through_a_connect_tunnel(monkeypatch: pytest.MonkeyPatch) -> None:
    # The tunnel leads to a server that does not speak TLS: what matters here is that the
    # client asked the proxy for a tunnel to the right place and failed typed.
    async with ForwardProxy(user="bob", password=PASSWORD) as proxy, \
            RawServer(respond(b"not TLS\r\n")) as origin:
        monkeypatch.setenv("HTTPS_PROXY", proxy.url)
        monkeypatch.setenv("HTTP_PROXY", "http://127.0.0.1:9")  # the wrong one for https
        target = f"127.0.0.1:{origin.port}"
        client = ox.OpenAI(api_key="sk-test", base_url=f"https://{target}/v1", max_retries=0)
        async with client:
            with pytest.raises(ox.APIConnectionError) as info:
                await client.chat.completions.create_stream(model="m", messages=MESSAGES)
    assert [(r.method, r.target) for r in proxy.requests] == [("CONNECT", target)]
    assert proxy.requests[0].headers["proxy-authorization"].startswith("Basic ")
    assert PASSWORD not in str(info.value) and "sk-test" not in str(info.value)


async def test_a_proxy_that_refuses_the_tunnel_is_a_typed_error() -> None:
    async with ForwardProxy(refuse=403) as proxy:
        client = ox.OpenAI(api_key="sk-test", base_url="https://api.example.test/v1",
                           proxy=proxy.url, max_retries=2)
        async with client:
            with pytest.raises(ox.APIConnectionError, match="proxy refused") as info:
                await client.chat.completions.create_stream(model="m", messages=MESSAGES)
    assert "403" in str(info.value)
    assert len(proxy.requests) == 1  # a refusal is not retried


async def test_an_unreachable_proxy_is_a_retried_connection_error() -> None:
    with socket.socket() as unused:
        unused.bind(("127.0.0.1", 0))
        port = unused.getsockname()[1]  # nothing listens there once closed
    client = ox.OpenAI(api_key="sk-test", base_url="http://127.0.0.1:9/v1",
                       proxy=f"http://127.0.0.1:{port}", max_retries=1)
    async with client:
        with pytest.raises(ox.APIConnectionError) as info:
            await client.chat.completions.create_stream(model="m", messages=MESSAGES)
    assert info.value.retries == 1


def test_proxy_for_tells_the_websocket_handshake_which_proxy(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("HTTPS_PROXY", "secure-proxy:3128")
    monkeypatch.setenv("HTTP_PROXY", "http://plain-proxy:3128")
    monkeypatch.setenv("NO_PROXY", "internal.example")
    client = ox.OpenAI(api_key="sk-test")
    assert client.proxy_for("wss://api.openai.com/v1/responses") == "http://secure-proxy:3128"
    assert client.proxy_for("ws://127.0.0.1:8765/v1/responses") == "http://plain-proxy:3128"
    assert client.proxy_for("wss://llm.internal.example/v1/responses") is None


NO_PROXY_RULES = [
    # (NO_PROXY, URL, bypassed?)
    ("example.com", "https://example.com/v1", True),
    ("example.com", "https://api.example.com/v1", True),
    ("example.com", "https://notexample.com/v1", False),
    (".example.com", "https://example.com/v1", False),
    (".example.com", "https://api.example.com/v1", True),
    ("*.example.com", "https://api.example.com/v1", True),
    ("*.example.com", "https://example.com/v1", False),
    ("example.com:8443", "https://example.com:8443/v1", True),
    ("example.com:8443", "https://example.com/v1", False),
    ("10.0.0.0/8", "http://10.1.2.3/v1", True),
    ("10.0.0.0/8", "http://11.1.2.3/v1", False),
    ("::1", "http://[::1]:8080/v1", True),
    ("localhost", "http://localhost:11434/v1", True),
    ("https://example.com", "https://example.com/v1", True),
    ("https://example.com", "http://example.com/v1", False),
    ("*", "https://anything.test/v1", True),
    ("", "https://example.com/v1", False),
]


@pytest.mark.parametrize(("no_proxy", "url", "bypassed"), NO_PROXY_RULES)
def test_no_proxy_follows_curls_rules(no_proxy: str, url: str, bypassed: bool) -> None:
    settings = ProxySettings.from_env({"http": "proxy:1", "https": "proxy:1", "no": no_proxy})
    assert (settings.proxy_for(url) is None) is bypassed


async def test_the_compat_client_honours_the_environment_proxy(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from oxide_rx.compat import AsyncOpenAI

    async with ForwardProxy() as proxy, MockServer() as server:
        monkeypatch.setenv("HTTP_PROXY", proxy.url)
        client = AsyncOpenAI(api_key="sk-test", base_url=server.base_url)
        completion = await client.chat.completions.create(model="m", messages=MESSAGES)
        await client.close()
    assert completion.choices[0].message.content
    assert len(proxy.requests) == 1


async def test_the_cli_honours_the_environment_proxy() -> None:
    async with ForwardProxy() as proxy, MockServer() as server:
        server.enqueue(Scenario.text("via the proxy"))
        env = {k: v for k, v in os.environ.items()
               if not k.startswith("OPENAI_") and k.lower() not in PROXY_VARIABLES}
        env.update(OPENAI_API_KEY="sk-test", OPENAI_BASE_URL=server.base_url,
                   HTTP_PROXY=proxy.url)
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "oxide_rx.cli", "chat", "Hi", env=env,
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
        stdout, stderr = await asyncio.wait_for(process.communicate(), 60)
    assert process.returncode == 0, stderr.decode()
    assert stdout.decode().strip() == "via the proxy"
    assert [r.method for r in proxy.requests] == ["POST"]
