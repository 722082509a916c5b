"""models.list / models.retrieve and embeddings.create (default base64, and float)."""
import openai
from openai import OpenAI

client = OpenAI()
page = client.models.list()
print([model.id for model in page])
print(page.data[0].model_dump(), page.to_dict()["object"])
print(client.models.retrieve("gpt-4o-mini").to_json(indent=None))
try:
    client.models.retrieve("no-such-model")
except openai.NotFoundError as exc:
    print(type(exc).__name__, exc.message, exc.code)
result = client.embeddings.create(model="text-embedding-3-small", input=["hello", "world"])
print(len(result.data), result.usage.model_dump(), result.model)
print([round(x, 6) for x in result.data[0].embedding])
floats = client.embeddings.create(model="text-embedding-3-small", input="hello",
                                  encoding_format="float", dimensions=4)
print(floats.data[0].embedding, floats.data[0].to_dict()["object"])
