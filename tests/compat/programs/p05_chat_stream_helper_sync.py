"""chat.completions.stream(), sync: every helper event, the snapshot, the final completion."""
from openai import OpenAI

client = OpenAI()
with client.chat.completions.stream(
    model="gpt-4o-mini",
    messages=[{"role": "user", "content": "Tell me something"}],
    stream_options={"include_usage": True},
) as stream:
    for event in stream:
        if event.type == "chunk":
            print("chunk", event.chunk.choices[0].delta.content if event.chunk.choices else "-",
                  event.snapshot.choices[0].message.content)
        else:
            print(event.type, event.model_dump_json())
    print(stream.current_completion_snapshot.model_dump_json())
final = stream.get_final_completion()
print(final.model_dump_json())
print(final.to_dict())
