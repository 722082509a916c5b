"""What the differential programs cannot show: compat-only behaviour and its guarantees."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import textwrap
import threading

import openai
import pytest
from support import ServerThread

import oxide_rx.compat as compat
from oxide_rx.compat import AsyncOpenAI, OpenAI


def test_the_clients_and_errors_are_the_official_classes() -> None:
    assert issubclass(AsyncOpenAI, openai.AsyncOpenAI) and issubclass(OpenAI, openai.OpenAI)
    assert compat.APIStatusError is openai.APIStatusError
    assert compat.__version__ == openai.__version__


def test_import_without_openai_says_how_to_install() -> None:
    program = textwrap.dedent("""
        import sys
        sys.modules["openai"] = None  # any import of openai now fails
        try:
            import oxide_rx.compat
        except ImportError as exc:
            print(exc)
    """)
    result = subprocess.run([sys.executable, "-c", program], capture_output=True, text=True,
                            timeout=60)
    assert "pip install 'oxide_rx[compat]'" in result.stdout, result.stderr


def test_environment_configures_the_client(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-env")
    monkeypatch.setenv("OPENAI_BASE_URL", "http://127.0.0.1:9/v1")
    monkeypatch.setenv("OPENAI_ORG_ID", "org-1")
    monkeypatch.setenv("OPENAI_PROJECT_ID", "proj-1")
    client = AsyncOpenAI()
    assert (client.api_key, str(client.base_url), client.organization, client.project) == (
        "sk-env", "http://127.0.0.1:9/v1/", "org-1", "proj-1")


def test_a_user_http_client_is_refused() -> None:
    with pytest.raises(NotImplementedError, match="http_client"):
        OpenAI(api_key="sk-test", http_client=object())  # type: ignore[arg-type]


def test_module_level_client_follows_its_settings(base_url: str,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(compat, "api_key", "sk-module")
    monkeypatch.setattr(compat, "base_url", base_url)
    completion = compat.chat.completions.create(
        model="m", messages=[], extra_headers={"X-Mock-Scenario": "text:module level"})
    assert completion.choices[0].message.content == "module level"
    assert isinstance(completion, openai.types.chat.ChatCompletion)


def test_the_api_key_never_shows_in_an_error(base_url: str) -> None:
    secret = "sk-this-must-not-leak-0123456789"
    client = OpenAI(api_key=secret, base_url=base_url, max_retries=0)
    with pytest.raises(openai.APIStatusError) as caught:
        client.chat.completions.create(model="m", messages=[],
                                       extra_headers={"X-Mock-Scenario": "error:401"})
    client.close()
    shown = f"{caught.value!r} {caught.value} {caught.value.body} {caught.value.response.headers}"
    assert caught.value.status_code == 401
    assert secret not in shown and secret not in repr(client.chat)


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


def test_a_sync_stream_finalized_on_the_loop_thread_releases_its_connection(
    monkeypatch: pytest.MonkeyPatch
) -> None:
    # The garbage collector runs finalizers on whatever thread it happens to run on; an
    # abandoned blocking stream can be finalized on compat's own loop thread, which must not
    # wait on itself.
    ignored: list[BaseException | None] = []
    monkeypatch.setattr(sys, "unraisablehook", lambda info: ignored.append(info.exc_value))
    serving = ServerThread()
    with serving as server:
        client = OpenAI(api_key="sk-test", base_url=server.base_url)
        abandoned = [client.chat.completions.create(
            model="m", messages=[], stream=True,
            extra_headers={"X-Mock-Scenario": "text:" + "word " * 200,
                           "X-Mock-Fault": "pace=0.05"})]  # still streaming when abandoned
        assert next(iter(abandoned[0])).choices
        runner = compat._loop.loop_thread()
        runner.call(abandoned.clear)  # the last reference dies on the loop thread
        serving.call(server.wait_for_open_connections(0))  # raises TimeoutError if held
        assert ignored == []
        client.close()


def test_a_stream_left_open_does_not_hold_up_interpreter_exit(base_url: str) -> None:
    program = textwrap.dedent("""
        from oxide_rx.compat import OpenAI
        stream = OpenAI().chat.completions.create(model="m", messages=[], stream=True)
        for chunk in stream:
            break
        print("left")
    """)
    env = {**os.environ, "OPENAI_API_KEY": "sk-test", "OPENAI_BASE_URL": base_url}
    result = subprocess.run([sys.executable, "-c", program], capture_output=True, text=True,
                            env=env, timeout=60)
    assert (result.returncode, result.stdout.strip()) == (0, "left"), result.stderr


def test_timeout_none_means_no_deadline_as_in_the_official_client(base_url: str) -> None:
    client = OpenAI(base_url=base_url, api_key="sk-test", timeout=0.05, max_retries=0)
    slow = {"X-Mock-Fault": "headers_delay=0.3"}
    messages: list[openai.types.chat.ChatCompletionMessageParam] = [
        {"role": "user", "content": "Hi"}]
    with pytest.raises(compat.APITimeoutError):
        client.chat.completions.create(model="m", messages=messages, extra_headers=slow)
    completion = client.chat.completions.create(
        model="m", messages=messages, extra_headers=slow, timeout=None
    )
    assert completion.choices[0].message.content
    client.close()
