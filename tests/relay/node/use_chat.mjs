// What a useChat front end does with the relay, using the AI SDK's own transport and reader:
// POST /api/chat (or resume with GET /api/chat/{id}/stream), parse every chunk with the SDK's
// schema, build the assistant message. Prints {"message": UIMessage | null, "chunks": n}.
//   node use_chat.mjs <ai|ai5> <api url> <chat id> <send|resume> [prompt]
const [sdk, api, chatId, mode, prompt = "Hello"] = process.argv.slice(2);
const { DefaultChatTransport, readUIMessageStream } = await import(sdk);

const transport = new DefaultChatTransport({ api });
const messages = [{ id: "u1", role: "user", parts: [{ type: "text", text: prompt }] }];
const stream = mode === "resume"
  ? await transport.reconnectToStream({ chatId })
  : await transport.sendMessages({
      chatId, messages, trigger: "submit-message", messageId: undefined,
      abortSignal: AbortSignal.timeout(30000),
    });

if (stream === null) {
  console.log(JSON.stringify({ message: null, chunks: 0 }));
} else {
  let chunks = 0;
  const counted = stream.pipeThrough(new TransformStream({
    transform(chunk, controller) { chunks += 1; controller.enqueue(chunk); },
  }));
  let message = null;
  for await (const snapshot of readUIMessageStream({
    stream: counted,
    onError: (error) => { throw error; },
    terminateOnError: true,
  })) {
    message = snapshot;
  }
  console.log(JSON.stringify({ message, chunks }));
}
