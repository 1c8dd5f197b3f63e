import {
  type LoopbackHandler,
  type LoopbackServer,
  type LoopbackServerOptions,
  startLoopbackServer,
} from "@orchestrator-ts/testing";

const PRICE_PER_TOKEN = 0.000002;

/** The custom endpoint's wire protocol, served on loopback with the shared fault injection. */
export function customProtocol(apiKey: string): LoopbackHandler {
  return {
    protocol: "custom",
    toolCallIdPrefix: "call_",
    mapFinishReason: (reason) => reason,
    renderError: (spec) => ({ status: spec.status, body: { error: spec.message ?? spec.kind } }),
    authenticate: (req) => req.headers.authorization === `Bearer ${apiKey}`,
    routes: [
      {
        method: "POST",
        path: "/generate",
        inference: true,
        handle: async (ctx) => {
          const prompt = typeof ctx.body.prompt === "string" ? ctx.body.prompt : "";
          const maxTokens = typeof ctx.body.max_tokens === "number" ? ctx.body.max_tokens : undefined;
          const stream = ctx.body.stream === true;
          const reply = await ctx.resolveReply({
            protocol: "custom",
            path: ctx.url.pathname,
            model: "custom",
            messages: [{ role: "user", content: prompt }],
            lastUserText: prompt,
            tools: [],
            stream,
            maxTokens,
            jsonMode: false,
            body: ctx.body,
          });
          const input = reply.usage?.inputTokens ?? 0;
          const output = reply.usage?.outputTokens ?? 0;
          const cost = (input + output) * PRICE_PER_TOKEN;
          if (!stream) {
            await ctx.sendJson(200, { text: reply.text, input_tokens: input, output_tokens: output, cost });
            return;
          }
          const frames = reply.chunks.map((text) => `${JSON.stringify({ text })}\n`);
          frames.push(`${JSON.stringify({ done: true, input_tokens: input, output_tokens: output, cost })}\n`);
          await ctx.sendStream({
            contentType: "application/x-ndjson",
            frames,
            terminalFrames: 1,
            malformedFrame: "{not json\n",
          });
        },
      },
      { method: "GET", path: "/ping", handle: (ctx) => ctx.sendJson(200, { ok: true }) },
    ],
  };
}

export function startCustomServer(apiKey: string, options: LoopbackServerOptions = {}): Promise<LoopbackServer> {
  return startLoopbackServer(customProtocol(apiKey), options);
}

export { PRICE_PER_TOKEN };
