"""responses.stream(), async: deltas with snapshots, the final response."""
import asyncio

from openai import AsyncOpenAI


async def main() -> None:
    client = AsyncOpenAI()
    async with client.responses.stream(
        model="gpt-5.4-mini", input="Hi",
        extra_headers={"X-Mock-Scenario": "text:Snapshots grow as text arrives."},
    ) as stream:
        async for event in stream:
            if event.type == "response.output_text.delta":
                print(repr(event.delta), repr(event.snapshot))
            elif event.type == "response.output_text.done":
                print("done", event.text, event.parsed)
            else:
                print(event.type)
        final = await stream.get_final_response()
    print(final.output_text)
    print(final.model_dump_json())


asyncio.run(main())
