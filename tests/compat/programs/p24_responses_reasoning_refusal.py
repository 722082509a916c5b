"""Reasoning summaries and a refusal on the Responses API, streamed and not."""
from openai import OpenAI

client = OpenAI()
reasoning = client.responses.create(model="o3-mini", input="Think",
                                    extra_headers={"X-Mock-Scenario": "reasoning"})
print([item.type for item in reasoning.output], reasoning.output[0].summary[0].text)
print(reasoning.output[0].model_dump())
for event in client.responses.create(model="o3-mini", input="Think", stream=True,
                                     extra_headers={"X-Mock-Scenario": "reasoning"}):
    if "reasoning" in event.type:
        print(event.to_json(indent=None))
refusal = client.responses.create(model="m", input="x",
                                  extra_headers={"X-Mock-Scenario": "refusal"})
print(refusal.output[0].content[0].type, refusal.output[0].content[0].refusal)
print(repr(refusal.output_text))
with client.responses.stream(model="m", input="x",
                             extra_headers={"X-Mock-Scenario": "refusal"}) as stream:
    print([event.type for event in stream])
