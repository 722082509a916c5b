"""HTTP errors 400/401/403/404/409/422/429/500/503, sync, no retries: class and attributes."""
import openai
from openai import OpenAI

client = OpenAI(max_retries=0)
for status in (400, 401, 403, 404, 409, 422, 429, 500, 503):
    try:
        client.chat.completions.create(
            model="gpt-4o-mini", messages=[{"role": "user", "content": "Hi"}],
            extra_headers={"X-Mock-Scenario": f"error:{status}"})
    except openai.APIStatusError as exc:
        print(status, type(exc).__name__, repr(exc))
        print(" ", exc.status_code, exc.message, exc.body, exc.code, exc.type, exc.param)
        print(" ", exc.request_id is not None, exc.response.status_code,
              isinstance(exc, openai.APIError), isinstance(exc, openai.OpenAIError))
