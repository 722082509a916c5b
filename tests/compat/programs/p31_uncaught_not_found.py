"""An uncaught error: the exit status and the exception class must match."""
from openai import OpenAI

client = OpenAI(max_retries=0)
print("before")
client.chat.completions.create(model="m", messages=[],
                               extra_headers={"X-Mock-Scenario": "error:404:no such thing"})
print("never printed")
