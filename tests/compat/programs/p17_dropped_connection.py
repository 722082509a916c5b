"""The server drops the connection mid-stream: the chunks before it, then APIConnectionError."""
import openai
from openai import OpenAI

client = OpenAI()
stream = client.chat.completions.create(
    model="gpt-4o-mini", messages=[{"role": "user", "content": "Hi"}], stream=True,
    extra_headers={"X-Mock-Fault": "drop_after=4"})
try:
    for chunk in stream:
        print(repr(chunk.choices[0].delta.content))
except openai.APIConnectionError as exc:
    print(type(exc).__name__, repr(exc), exc.message,
          isinstance(exc, openai.APITimeoutError), exc.body)
try:
    for event in client.responses.create(model="m", input="Hi", stream=True,
                                         extra_headers={"X-Mock-Fault": "drop_after=3"}):
        print(event.type)
except openai.APIConnectionError as exc:
    print(type(exc).__name__, repr(exc))
