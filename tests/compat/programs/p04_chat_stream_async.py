"""Streaming chat completion, async: to_json of every chunk, inside `async with stream`."""
import asyncio

from openai import AsyncOpenAI


async def main() -> None:
    client = AsyncOpenAI()
    stream = await client.chat.completions.create(
        model="gpt-4o-mini",
        messages=[{"role": "user", "content": "Hi"}],
        stream=True,
        extra_headers={"X-Mock-Scenario": "text:Streaming from an async client."},
    )
    async with stream:
        async for chunk in stream:
            print(chunk.to_json(indent=None))
            print(chunk.choices[0].delta.content if chunk.choices else None)
    await client.close()


asyncio.run(main())
