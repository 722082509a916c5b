"""The ``mock_openai`` fixture that oxide_rx installs as a pytest plugin."""

from __future__ import annotations

import oxide_rx as ox
from oxide_rx.testing import MockServer, Scenario


async def test_mock_openai_fixture_serves_scripted_answers(mock_openai: MockServer) -> None:
    mock_openai.enqueue(Scenario.text("Hello from the fixture"))
    async with ox.OpenAI(base_url=mock_openai.base_url, api_key="test") as client:
        stream = await client.chat.completions.create_stream(
            model="gpt-4o-mini", messages=[{"role": "user", "content": "hi"}]
        )
        completion = await stream.final_completion()
    assert completion.choices[0].message.content == "Hello from the fixture"
    assert len(mock_openai.requests) == 1
