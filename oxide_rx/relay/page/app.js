// The relay page: start a generation, follow it over EventSource, render it as it grows.
// No framework: one state object, rendered at most once per animation frame.
"use strict";

const $ = (selector) => document.querySelector(selector);
let source = null;
let generationId = null;
let state = null;
let frameRequested = false;

function freshState() {
  return { prompt: "", model: "", text: "", reasoning: "", tools: new Map(), usage: null,
           status: "running", end: null, startedAt: performance.now(), firstAt: null };
}

function escapeHtml(text) {
  return text.replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c]));
}

// Markdown-ish: fenced code, inline code, bold, italics, headings, lists, paragraphs.
function markdown(text) {
  const blocks = text.split(/```/);
  return blocks.map((block, i) => {
    if (i % 2 === 1) {
      const body = block.replace(/^[^\n]*\n/, "");
      return `<pre><code>${escapeHtml(body)}</code></pre>`;
    }
    return block.split(/\n{2,}/).filter((p) => p.trim()).map((para) => {
      let html = escapeHtml(para)
        .replace(/`([^`]+)`/g, "<code>$1</code>")
        .replace(/\*\*([^*]+)\*\*/g, "<strong>$1</strong>")
        .replace(/(^|[^*])\*([^*\n]+)\*/g, "$1<em>$2</em>");
      const heading = html.match(/^(#{1,3}) (.*)$/);
      if (heading) return `<h${heading[1].length + 2}>${heading[2]}</h${heading[1].length + 2}>`;
      if (/^[-*] /m.test(html) && html.split("\n").every((l) => /^[-*] /.test(l))) {
        return "<ul>" + html.split("\n").map((l) => `<li>${l.slice(2)}</li>`).join("") + "</ul>";
      }
      return `<p>${html.replace(/\n/g, "<br>")}</p>`;
    }).join("");
  }).join("");
}

function render() {
  frameRequested = false;
  if (!state) return;
  $("#generation").hidden = false;
  $("#question").textContent = state.prompt;
  document.body.dataset.status = state.status;
  const model = state.model ? ` · ${state.model}` : "";
  const labels = { running: "streaming…", completed: "done", stopped: "stopped", unwatched: "stopped (nobody watched)", failed: "failed" };
  let status = (labels[state.status] || state.status) + model;
  if (state.end && state.end.message) status += ` · ${state.end.message}`;
  $("#status").textContent = status;
  $("#stop").disabled = state.status !== "running";
  $("#reasoning").hidden = !state.reasoning;
  $("#reasoning-text").textContent = state.reasoning;
  const tools = $("#tools");
  tools.replaceChildren(...[...state.tools.values()].map((tool) => {
    const li = document.createElement("li");
    li.className = tool.done ? "done" : "building";
    li.dataset.callId = tool.id;
    li.innerHTML = `<span class="tick">${tool.done ? "✓" : "…"}</span><span class="name">${escapeHtml(tool.name)}</span>(<span class="args">${escapeHtml(tool.args)}</span>)`;
    return li;
  }));
  $("#answer").innerHTML = markdown(state.text);
  $("#usage").textContent = usageLine();
}

function usageLine() {
  const u = state.usage;
  if (!u) return "";
  const input = u.prompt_tokens ?? u.input_tokens;
  const output = u.completion_tokens ?? u.output_tokens;
  let line = `${input} prompt tokens · ${output} output tokens`;
  const speed = state.end && state.end.output_tokens_per_second;
  if (speed) line += ` · ${speed} tokens/s`;
  return line;
}

function schedule() {
  if (!frameRequested) {
    frameRequested = true;
    requestAnimationFrame(render);
  }
}

function follow(id) {
  if (source) source.close();
  generationId = id;
  state = freshState();
  const url = new URL(location.href);
  url.searchParams.set("g", id);
  history.replaceState(null, "", url);
  source = new EventSource(`generations/${encodeURIComponent(id)}/events`);
  const on = (name, handler) => source.addEventListener(name, (e) => { handler(JSON.parse(e.data)); schedule(); });
  on("generation", (d) => { state.prompt = d.prompt || ""; state.model = d.model || ""; });
  on("ContentDelta", (d) => { if (d.choice === 0) state.text += d.delta; });
  on("RefusalDelta", (d) => { if (d.choice === 0) state.text += d.delta; });
  on("ReasoningDelta", (d) => { if (d.choice === 0) state.reasoning += d.delta; });
  on("ToolCallDelta", (d) => {
    const tool = state.tools.get(d.call_id) || { id: d.call_id, name: d.name, args: "", done: false };
    tool.args += d.arguments_delta;
    state.tools.set(d.call_id, tool);
  });
  on("ToolCallDone", (d) => {
    state.tools.set(d.call_id, { id: d.call_id, name: d.name, args: d.arguments, done: true });
  });
  on("Usage", (d) => { state.usage = d.usage; });
  on("end", (d) => { state.status = d.status; state.end = d; source.close(); });
  source.onerror = () => {
    // The browser reconnects by itself (with Last-Event-ID) unless the server said no.
    if (source.readyState === EventSource.CLOSED && state.status === "running") {
      state.status = "failed";
      state.end = { message: "the relay closed the stream" };
      schedule();
    }
  };
  schedule();
}

$("#ask").addEventListener("submit", async (event) => {
  event.preventDefault();
  const body = { prompt: $("#prompt").value, api: $("#api").value };
  if ($("#model").value.trim()) body.model = $("#model").value.trim();
  $("#send").disabled = true;
  try {
    const response = await fetch("generations", { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) });
    const data = await response.json();
    if (!response.ok) throw new Error(data.error ? data.error.message : response.statusText);
    follow(data.id);
  } catch (error) {
    state = freshState();
    state.status = "failed";
    state.end = { message: String(error.message || error) };
    schedule();
  } finally {
    $("#send").disabled = false;
  }
});

$("#stop").addEventListener("click", async () => {
  if (!generationId) return;
  $("#stop").disabled = true;
  await fetch(`generations/${encodeURIComponent(generationId)}/stop`, { method: "POST" });
});

const initial = new URL(location.href).searchParams.get("g");
if (initial) follow(initial);
