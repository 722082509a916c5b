"""Structured output cut short: LengthFinishReasonError from parse() and from .stream()."""
import openai
from openai import OpenAI
from pydantic import BaseModel


class City(BaseModel):
    name: str


client = OpenAI(default_headers={"X-Mock-Scenario": "incomplete"})
plain = client.chat.completions.create(model="gpt-4o-mini",
                                       messages=[{"role": "user", "content": "Hi"}])
print(plain.choices[0].finish_reason, plain.choices[0].message.content)
try:
    client.chat.completions.parse(model="gpt-4o-mini", response_format=City,
                                  messages=[{"role": "user", "content": "Hi"}])
except openai.LengthFinishReasonError as exc:
    print("parse:", type(exc).__name__, str(exc).split(" - ")[0])
    print(exc.completion.choices[0].finish_reason)
try:
    with client.chat.completions.stream(model="gpt-4o-mini", response_format=City,
                                        messages=[{"role": "user", "content": "Hi"}]) as stream:
        stream.until_done()
except (openai.LengthFinishReasonError, ValueError) as exc:
    # Both clients parse the partial text as JSON first: not JSON here, so a ValueError.
    print("stream:", type(exc).__name__, isinstance(exc, openai.OpenAIError))
with client.chat.completions.stream(model="gpt-4o-mini",
                                    messages=[{"role": "user", "content": "Hi"}]) as stream:
    stream.until_done()
try:
    stream.get_final_completion()
except openai.LengthFinishReasonError as exc:
    print("final:", type(exc).__name__)
