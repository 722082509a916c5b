"""Tool calls through .stream() with a strict tool: argument deltas, done events, parsing."""
from openai import OpenAI

TOOLS = [{"type": "function", "function": {
    "name": "get_weather", "strict": True, "parameters": {
        "type": "object", "properties": {"city": {"type": "string"}},
        "required": ["city"], "additionalProperties": False}}}]

client = OpenAI()
with client.chat.completions.stream(
    model="gpt-4o-mini", messages=[{"role": "user", "content": "Weather in two cities?"}],
    tools=TOOLS, extra_headers={"X-Mock-Scenario": "tool_calls"},
) as stream:
    for event in stream:
        if event.type.startswith("tool_calls"):
            print(event.model_dump())
final = stream.get_final_completion()
for call in final.choices[0].message.tool_calls:
    print(call.function.name, call.function.parsed_arguments)
print(final.model_dump_json())
