"""The relay's HTTP surface: start, list, info, oxide SSE with Last-Event-ID, errors."""

from __future__ import annotations

import aiohttp
from relay_support import RelayServer, collect

from oxide_rx.testing import MockServer, Scenario

TEXT = "Resumable over plain HTTP."


async def start(http: aiohttp.ClientSession, server: RelayServer, **body: object) -> str:
    async with http.post(server.url + "generations", json={"prompt": "Hi", **body}) as r:
        assert r.status == 201
        return str((await r.json())["id"])


async def test_last_event_id_resumes_and_204_ends_the_browser_reconnects(
    server: RelayServer, mock: MockServer, http: aiohttp.ClientSession
) -> None:
    mock.enqueue(Scenario.text(TEXT))
    generation = await start(http, server)
    url = f"{server.url}generations/{generation}/events"
    async with http.get(url) as response:
        assert response.headers["Content-Type"].startswith("text/event-stream")
        whole = await collect(response)
    middle = whole[len(whole) // 2]
    async with http.get(url, headers={"Last-Event-ID": middle.id}) as response:
        rest = await collect(response)
    assert [(e.event, e.data) for e in rest] == [
        (e.event, e.data) for e in whole[len(whole) // 2 + 1:]]
    async with http.get(url, headers={"Last-Event-ID": whole[-1].id}) as response:
        assert response.status == 204  # EventSource stops reconnecting
    async with http.get(url, params={"last_event_id": "not-an-id"}) as response:
        assert response.status == 400
        assert (await response.json())["error"]["code"] == "invalid_last_event_id"


async def test_listing_info_and_not_found(
    server: RelayServer, mock: MockServer, http: aiohttp.ClientSession
) -> None:
    mock.enqueue(Scenario.text(TEXT))
    generation = await start(http, server, api="responses", model="gpt-5.4-mini")
    async with http.get(f"{server.url}generations/{generation}/events") as response:
        await collect(response)
    async with http.get(server.url + "generations") as response:
        listed = (await response.json())["generations"]
    assert [(g["id"], g["api"], g["model"], g["status"]) for g in listed] == [
        (generation, "responses", "gpt-5.4-mini", "completed")]
    async with http.get(f"{server.url}generations/{generation}") as response:
        assert (await response.json())["prompt"] == "Hi"
    for method, path in [("GET", "generations/nope"), ("GET", "generations/nope/events"),
                         ("GET", "generations/nope/ui"), ("POST", "generations/nope/stop")]:
        async with http.request(method, server.url + path) as response:
            assert response.status == 404, path


async def test_bad_requests_are_refused(
    server: RelayServer, http: aiohttp.ClientSession
) -> None:
    for body in ({}, {"prompt": "  "}, {"prompt": "Hi", "api": "other"}):
        async with http.post(server.url + "generations", json=body) as response:
            assert response.status == 400, body
    async with http.post(server.url + "generations", data=b"not json") as response:
        assert response.status == 400
    async with http.post(server.url + "v1/chat/completions", json={"model": "m"},
                         headers={"x-oxide-rx-generation": "bad key!"}) as response:
        assert response.status == 400


async def test_upstream_status_errors_keep_their_status(
    server: RelayServer, mock: MockServer, http: aiohttp.ClientSession
) -> None:
    mock.enqueue(Scenario.error(404, "The model does not exist"))
    async with http.post(server.url + "generations", json={"prompt": "Hi"}) as response:
        assert response.status == 404
        assert (await response.json())["error"]["message"] == "The model does not exist"


async def test_a_joined_generation_of_the_other_api_is_a_conflict(
    server: RelayServer, mock: MockServer, http: aiohttp.ClientSession
) -> None:
    mock.enqueue(Scenario.text(TEXT))
    key = {"x-oxide-rx-generation": "one-api"}
    body = {"model": "m", "messages": [{"role": "user", "content": "Hi"}], "stream": True}
    async with http.post(server.url + "v1/chat/completions", json=body, headers=key) as r:
        await r.read()
    async with http.post(server.url + "v1/responses", json={"model": "m", "input": "Hi"},
                         headers=key) as response:
        assert response.status == 409
