"""A refusal: non-streaming message.refusal, and refusal.delta / refusal.done events."""
from openai import OpenAI

client = OpenAI(default_headers={"X-Mock-Scenario": "refusal:I can't help with that request."})
completion = client.chat.completions.create(
    model="gpt-4o-mini", messages=[{"role": "user", "content": "Something bad"}])
print(repr(completion.choices[0].message.content), completion.choices[0].message.refusal)
print(completion.choices[0].model_dump_json())
with client.chat.completions.stream(
        model="gpt-4o-mini", messages=[{"role": "user", "content": "Something bad"}]) as stream:
    for event in stream:
        if event.type != "chunk":
            print(event.to_json(indent=None))
print(stream.get_final_completion().choices[0].message.to_dict())
