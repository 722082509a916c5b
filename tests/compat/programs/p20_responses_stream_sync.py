"""responses.create(stream=True), sync: every typed event, as JSON, with its type."""
from openai import OpenAI

client = OpenAI()
stream = client.responses.create(model="gpt-5.4-mini", input="Hi", stream=True)
text = []
for event in stream:
    print(event.type, event.sequence_number, event.to_json(indent=None))
    if event.type == "response.output_text.delta":
        text.append(event.delta)
    if event.type == "response.completed":
        print(event.response.output_text == "".join(text))
        print(event.response.model_dump_json())
stream.close()
