"""Function calls on the Responses API: output items, argument events, parsed arguments."""
from openai import OpenAI

TOOLS = [{"type": "function", "name": "get_weather", "strict": True, "parameters": {
    "type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"],
    "additionalProperties": False}}]

client = OpenAI(default_headers={"X-Mock-Scenario": "tool_calls"})
response = client.responses.create(model="gpt-5.4-mini", input="Weather?", tools=TOOLS)
for item in response.output:
    print(item.type, item.name, item.arguments, item.status)
print(response.output[0].to_dict())
with client.responses.stream(model="gpt-5.4-mini", input="Weather?", tools=TOOLS) as stream:
    for event in stream:
        if event.type == "response.function_call_arguments.delta":
            print("delta", event.output_index, event.delta, event.snapshot)
        elif event.type == "response.function_call_arguments.done":
            print("done", event.arguments)
final = stream.get_final_response()
print([item.parsed_arguments for item in final.output])
print(final.output[1].model_dump())
