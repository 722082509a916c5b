"""Non-streaming chat completion, sync client: text, the whole object in every dump format."""
from openai import OpenAI

client = OpenAI()
completion = client.chat.completions.create(
    model="gpt-4o-mini", messages=[{"role": "user", "content": "Say this is a test"}]
)
print(completion.choices[0].message.content)
print(completion.choices[0].finish_reason, completion.usage.total_tokens)
print(completion.model_dump_json())
print(completion.to_json())
print(completion.model_dump(exclude_none=True))
print(repr(completion))
client.close()
