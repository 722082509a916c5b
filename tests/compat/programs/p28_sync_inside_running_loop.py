"""The sync client used from a worker thread of an app that runs its own asyncio loop."""
import asyncio

from openai import OpenAI

client = OpenAI()


def blocking_call(word: str) -> str:
    completion = client.chat.completions.create(
        model="m", messages=[{"role": "user", "content": word}],
        extra_headers={"X-Mock-Scenario": f"text:echo {word}"})
    chunks = client.chat.completions.create(
        model="m", messages=[], stream=True,
        extra_headers={"X-Mock-Scenario": f"text:streamed {word}"})
    return completion.choices[0].message.content + " / " + "".join(
        c.choices[0].delta.content or "" for c in chunks)


async def main() -> None:
    results = await asyncio.gather(*(asyncio.to_thread(blocking_call, w) for w in "abc"))
    print(results)
    print(blocking_call("direct"))  # blocks this loop, still completes


asyncio.run(main())
client.close()
