"""Non-streaming chat completion, async client, used as a context manager."""
import asyncio

from openai import AsyncOpenAI


async def main() -> None:
    async with AsyncOpenAI() as client:
        completion = await client.chat.completions.create(
            model="gpt-4o-mini",
            messages=[{"role": "user", "content": "Hello"}],
            extra_headers={"X-Mock-Scenario": "text:Hello, async world!"},
        )
        print(completion.choices[0].message.content)
        print(completion.to_dict())
        print(completion.model_dump(mode="json", by_alias=True))
        print(dict(completion.choices[0].message))


asyncio.run(main())
