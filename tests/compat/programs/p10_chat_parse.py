"""chat.completions.parse() with a pydantic model: message.parsed and the dumps."""
from openai import OpenAI
from pydantic import BaseModel


class Weather(BaseModel):
    city: str
    temperature: float
    conditions: list[str]


client = OpenAI()
completion = client.chat.completions.parse(
    model="gpt-4o-mini",
    messages=[{"role": "user", "content": "Weather in Paris as JSON"}],
    response_format=Weather,
    extra_headers={"X-Mock-Scenario":
                   'text:{"city": "Paris", "temperature": 21, "conditions": ["sunny", "dry"]}'},
)
parsed = completion.choices[0].message.parsed
print(type(parsed).__name__, parsed)
print(parsed.city, parsed.temperature, parsed.conditions)
print(completion.choices[0].message.model_dump_json())
print(completion.model_dump())
