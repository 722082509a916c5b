"""chat.completions.stream(), async: until_done() and get_final_completion()."""
import asyncio

from openai import AsyncOpenAI


async def main() -> None:
    client = AsyncOpenAI()
    async with client.chat.completions.stream(
        model="gpt-4o-mini",
        messages=[{"role": "user", "content": "Hi"}],
        extra_headers={"X-Mock-Scenario": "text:One, two, three, four, five."},
    ) as stream:
        await stream.until_done()
        completion = await stream.get_final_completion()
    print(completion.choices[0].message.content)
    print(completion.model_dump())
    async with client.chat.completions.stream(
        model="gpt-4o-mini", messages=[{"role": "user", "content": "again"}],
    ) as stream:
        types = [event.type async for event in stream]
    print(types.count("chunk"), types.count("content.delta"), [t for t in types if "done" in t])


asyncio.run(main())
