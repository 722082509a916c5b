"""with_options, default_headers/default_query, per-request timeout and extra_body."""
import openai
from openai import OpenAI

client = OpenAI(default_headers={"X-Mock-Scenario": "text:from default headers"},
                default_query={"tenant": "t1"}, timeout=30.0, max_retries=1)
print(client.max_retries, client.with_options(max_retries=0).max_retries)
quick = client.with_options(timeout=10.0, max_retries=0)
print(quick.chat.completions.create(model="m", messages=[]).choices[0].message.content)
replaced = client.with_options(set_default_headers={"X-Mock-Scenario": "text:replaced"})
print(replaced.chat.completions.create(model="m", messages=[]).choices[0].message.content)
merged = client.with_options(default_headers={"X-Mock-Scenario": "error:409"}, max_retries=0)
try:
    merged.chat.completions.create(model="m", messages=[], timeout=5.0,
                                   extra_body={"metadata": {"k": "v"}})
except openai.ConflictError as exc:
    print(type(exc).__name__, exc.status_code)
print(client.chat.completions.create(model="m", messages=[], timeout=openai.Timeout(20.0,
      connect=2.0)).choices[0].message.content)
with OpenAI() as scoped:
    print(scoped.models.retrieve("gpt-4o").id)
