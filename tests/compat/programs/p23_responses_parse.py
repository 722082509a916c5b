"""responses.parse(text_format=Model) and responses.stream(text_format=Model)."""
from openai import OpenAI
from pydantic import BaseModel


class Event(BaseModel):
    name: str
    date: str
    participants: list[str]


TEXT = '{"name": "Science fair", "date": "Friday", "participants": ["Alice", "Bob"]}'
client = OpenAI(default_headers={"X-Mock-Scenario": "text:" + TEXT})
response = client.responses.parse(model="gpt-5.4-mini", input="Extract", text_format=Event)
print(type(response.output_parsed).__name__, response.output_parsed)
print(response.output[0].content[0].parsed.participants)
print(response.output[0].model_dump_json())
with client.responses.stream(model="gpt-5.4-mini", input="Extract", text_format=Event) as s:
    for event in s:
        if event.type == "response.output_text.done":
            print(event.parsed)
print(s.get_final_response().output_parsed.name)
