"""A failure inside a 200 stream: chat's error frame and the Responses API's error event."""
import openai
from openai import OpenAI

client = OpenAI(default_headers={"X-Mock-Scenario": "response_error:server_error:It broke."})
try:
    for chunk in client.chat.completions.create(model="m", messages=[], stream=True):
        print(chunk.choices[0].delta.content if chunk.choices else None)
except openai.APIError as exc:
    print(type(exc).__name__, repr(exc), exc.body, exc.code, exc.type)
try:
    for event in client.responses.create(model="m", input="x", stream=True):
        print(event.type)
except openai.APIError as exc:
    print(type(exc).__name__, repr(exc), exc.body)
try:
    client.with_options(max_retries=0).chat.completions.create(model="m", messages=[])
except openai.InternalServerError as exc:
    print(type(exc).__name__, exc.status_code, exc.message)
