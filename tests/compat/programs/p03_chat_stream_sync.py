"""Streaming chat completion, sync: every chunk, usage at the end, text joined."""
from openai import OpenAI

client = OpenAI()
stream = client.chat.completions.create(
    model="gpt-4o-mini",
    messages=[{"role": "user", "content": "Write two lines"}],
    stream=True,
    stream_options={"include_usage": True},
)
parts = []
for chunk in stream:
    print(chunk.model_dump_json())
    if chunk.choices and chunk.choices[0].delta.content:
        parts.append(chunk.choices[0].delta.content)
    if chunk.usage is not None:
        print("usage", chunk.usage.prompt_tokens, chunk.usage.completion_tokens)
print("".join(parts))
print(stream.response.status_code)
