"""HTTP errors on the async client, for plain and streaming requests of both APIs."""
import asyncio

import openai
from openai import AsyncOpenAI


async def main() -> None:
    client = AsyncOpenAI().with_options(max_retries=0)
    for status in (400, 401, 404, 429, 500):
        headers = {"X-Mock-Scenario": f"error:{status}:failure number {status}"}
        for stream in (False, True):
            try:
                await client.chat.completions.create(
                    model="m", messages=[{"role": "user", "content": "x"}], stream=stream,
                    extra_headers=headers)
            except openai.APIError as exc:
                print("chat", stream, type(exc).__name__, exc.status_code, exc.message)
            try:
                await client.responses.create(model="m", input="x", stream=stream,
                                              extra_headers=headers)
            except openai.APIError as exc:
                print("responses", stream, type(exc).__name__, exc.status_code, exc.body)
    try:
        async with client.chat.completions.stream(
                model="m", messages=[], extra_headers={"X-Mock-Scenario": "error:400"}):
            pass
    except openai.BadRequestError as exc:
        print("helper", repr(exc))


asyncio.run(main())
