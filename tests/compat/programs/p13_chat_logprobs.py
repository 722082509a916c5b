"""logprobs: non-streaming lists, and logprobs.content.* events of .stream()."""
from openai import OpenAI

client = OpenAI()
completion = client.chat.completions.create(
    model="gpt-4o-mini", messages=[{"role": "user", "content": "Hi"}], logprobs=True,
    top_logprobs=2, extra_headers={"X-Mock-Scenario": "text:Tiny answer."})
logprobs = completion.choices[0].logprobs
print(len(logprobs.content), [t.token for t in logprobs.content])
print(logprobs.content[0].model_dump_json())
with client.chat.completions.stream(
        model="gpt-4o-mini", messages=[{"role": "user", "content": "Hi"}], logprobs=True,
        top_logprobs=2, extra_headers={"X-Mock-Scenario": "text:Tiny answer."}) as stream:
    for event in stream:
        if event.type.startswith("logprobs"):
            print(event.type, [t.token for t in getattr(event, "content", None) or []],
                  len(getattr(event, "snapshot", None) or []))
