"""Breaking out of a stream and closing it; the client keeps working afterwards."""
from openai import OpenAI

client = OpenAI()
stream = client.chat.completions.create(model="m", messages=[], stream=True)
for count, chunk in enumerate(stream):
    print(repr(chunk.choices[0].delta.content))
    if count == 2:
        break
stream.close()
with client.responses.create(model="m", input="x", stream=True) as events:
    for event in events:
        print(event.type)
        if event.type == "response.output_text.delta":
            break
print(client.chat.completions.create(
    model="m", messages=[], extra_headers={"X-Mock-Scenario": "text:still fine"}
).choices[0].message.content)
