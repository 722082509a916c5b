"""Retries: a 500 retried once then failing, and a 429 with max_retries=0."""
import openai
from openai import OpenAI

client = OpenAI(max_retries=1)
try:
    client.chat.completions.create(model="m", messages=[],
                                   extra_headers={"X-Mock-Scenario": "error:500"})
except openai.InternalServerError as exc:
    print(type(exc).__name__, exc.status_code)
try:
    client.with_options(max_retries=0).responses.create(
        model="m", input="x", extra_headers={"X-Mock-Scenario": "error:429"})
except openai.RateLimitError as exc:
    print(type(exc).__name__, exc.code, exc.type)
