"""Background responses: create (queued), retrieve until done, cancel another one."""
from openai import OpenAI

client = OpenAI()
queued = client.responses.create(model="gpt-5.4-mini", input="Slow job", background=True)
print(queued.status, queued.background, repr(queued.output_text))
seen = []
current = queued
while current.status in ("queued", "in_progress"):
    current = client.responses.retrieve(queued.id)
    seen.append(current.status)
print(seen, current.output_text[:20], current.id == queued.id)
other = client.responses.create(model="gpt-5.4-mini", input="Other", background=True)
cancelled = client.responses.cancel(other.id)
print(cancelled.status, cancelled.to_dict()["status"])
