"""chat.completions.stream(response_format=Model), async: partial parsed, content.done."""
import asyncio

from openai import AsyncOpenAI
from pydantic import BaseModel


class Step(BaseModel):
    explanation: str
    output: str


class Answer(BaseModel):
    steps: list[Step]
    final_answer: str


TEXT = ('{"steps": [{"explanation": "add", "output": "2"}, {"explanation": "check", '
        '"output": "ok"}], "final_answer": "2"}')


async def main() -> None:
    client = AsyncOpenAI()
    async with client.chat.completions.stream(
        model="gpt-4o-mini", messages=[{"role": "user", "content": "1+1"}],
        response_format=Answer, extra_headers={"X-Mock-Scenario": "text:" + TEXT},
    ) as stream:
        async for event in stream:
            if event.type == "content.delta":
                print("delta", repr(event.delta), event.parsed)
            elif event.type == "content.done":
                print("done", type(event.parsed).__name__, event.parsed.final_answer)
        final = await stream.get_final_completion()
    print(final.choices[0].message.parsed.steps[1].output)
    print(final.choices[0].message.model_dump_json())


asyncio.run(main())
