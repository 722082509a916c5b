"""responses.create, sync: output_text and the whole Response in every dump format."""
from openai import OpenAI

client = OpenAI()
response = client.responses.create(model="gpt-5.4-mini", input="Tell me a story")
print(response.output_text)
print(response.status, response.usage.output_tokens, response.output[0].type)
print(response.to_json())
print(response.model_dump_json())
print(response.output[0].content[0].model_dump())
