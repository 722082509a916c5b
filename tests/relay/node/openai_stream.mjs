// The official openai package pointed at a base URL: a chat stream and a Responses stream,
// with the SDK's own stream helpers. Prints the accumulated results as JSON.
//   node openai_stream.mjs <base url> <chat|responses> [generation key]
import OpenAI from "openai";

const [baseURL, api, key] = process.argv.slice(2);
const client = new OpenAI({ baseURL, apiKey: process.env.OPENAI_API_KEY || "sk-node-client-key", maxRetries: 0, timeout: 30000 });
const headers = key ? { "x-oxide-rx-generation": key } : {};

if (api === "chat") {
  const stream = client.chat.completions.stream(
    { model: "gpt-4o-mini", messages: [{ role: "user", content: "Hi" }],
      stream_options: { include_usage: true } },
    { headers },
  );
  let text = "";
  stream.on("content.delta", ({ delta }) => { text += delta; });
  const completion = await stream.finalChatCompletion();
  console.log(JSON.stringify({ text, completion }));
} else {
  const stream = client.responses.stream(
    { model: "gpt-5.4-mini", input: "Hi" },
    { headers },
  );
  let text = "";
  stream.on("response.output_text.delta", (event) => { text += event.delta; });
  const response = await stream.finalResponse();
  console.log(JSON.stringify({ text, response }));
}
