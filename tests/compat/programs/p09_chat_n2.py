"""n=2: two choices, non-streaming and streaming (interleaved chunks), sync client."""
from openai import OpenAI

client = OpenAI()
completion = client.chat.completions.create(
    model="gpt-4o-mini", messages=[{"role": "user", "content": "Two answers"}], n=2)
for choice in completion.choices:
    print(choice.index, choice.finish_reason, choice.message.content)
print(completion.to_json(indent=None))

texts = {}
for chunk in client.chat.completions.create(
        model="gpt-4o-mini", messages=[{"role": "user", "content": "Two answers"}], n=2,
        stream=True):
    for choice in chunk.choices:
        texts.setdefault(choice.index, []).append(choice.delta.content or "")
        if choice.finish_reason:
            print("finished", choice.index, choice.finish_reason)
for index in sorted(texts):
    print(index, "".join(texts[index]))

with client.chat.completions.stream(
        model="gpt-4o-mini", messages=[{"role": "user", "content": "Two answers"}], n=2,
) as stream:
    print([e.type for e in stream if e.type != "chunk"])
print([c.message.content for c in stream.get_final_completion().choices])
