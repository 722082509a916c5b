"""Tool calls, non-streaming and streaming (sync): ids, names, arguments, whole objects."""
import json

from openai import OpenAI

TOOLS = [{"type": "function", "function": {
    "name": "get_weather", "parameters": {"type": "object", "properties": {
        "city": {"type": "string"}}, "required": ["city"]}}}]

client = OpenAI(default_headers={"X-Mock-Scenario": "tool_calls"})
completion = client.chat.completions.create(
    model="gpt-4o-mini", messages=[{"role": "user", "content": "Weather?"}], tools=TOOLS)
message = completion.choices[0].message
print(completion.choices[0].finish_reason, message.content)
for call in message.tool_calls:
    print(call.type, call.function.name, json.loads(call.function.arguments))
print(completion.model_dump_json(indent=2))

stream = client.chat.completions.create(
    model="gpt-4o-mini", messages=[{"role": "user", "content": "Weather?"}], tools=TOOLS,
    stream=True)
for chunk in stream:
    delta = chunk.choices[0].delta
    for fragment in delta.tool_calls or []:
        print(fragment.index, fragment.function.name, fragment.function.arguments)
    print(chunk.choices[0].finish_reason)
