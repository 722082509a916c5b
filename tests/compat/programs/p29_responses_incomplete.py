"""An incomplete response (max_output_tokens): status, reason, partial text, events."""
from openai import OpenAI

client = OpenAI(default_headers={"X-Mock-Scenario": "incomplete"})
response = client.responses.create(model="m", input="Long answer please")
print(response.status, response.incomplete_details.reason, response.incomplete_details)
print(response.output_text)
types = [event.type for event in client.responses.create(model="m", input="x", stream=True)]
print(types[0], types[-1], len(types))
