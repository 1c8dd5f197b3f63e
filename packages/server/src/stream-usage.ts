import { type GenerateRequest, estimateRequestTokens } from "@orchestrator-ts/core";
import { withFields } from "@orchestrator-ts/core/internal";
import type { RegistryResult, RegistryStreamChunk } from "@orchestrator-ts/registry";

type Finish = Extract<RegistryStreamChunk, { type: "finish" }>;

/**
 * A stream's usage for its last event, always with both counts: clients (LangChain, the SDKs'
 * helpers) read it from there. A count the model did not report is estimated as the key's budget
 * does: the prompt as core's `estimateRequestTokens`, the output at about 4 characters a token.
 * Counts the model reported are kept. One per stream.
 */
export class StreamUsage {
  /** Characters of the answer so far (text, reasoning, tool calls' arguments). */
  chars = 0;
  readonly #request: GenerateRequest;

  constructor(request: GenerateRequest) {
    this.#request = request;
  }

  /** Counts what `chunk` adds to the answer. */
  count(chunk: RegistryStreamChunk): void {
    if (chunk.type === "text" || chunk.type === "reasoning") this.chars += chunk.text.length;
    // The whole call follows its argument pieces: counted once, from it.
    else if (chunk.type === "tool-call") {
      const args = chunk.toolCall.arguments;
      this.chars += typeof args === "string" ? args.length : (JSON.stringify(args)?.length ?? 0);
    }
  }

  /**
   * `finish` with both counts: itself when the model reported them, else a copy (the chunk is the
   * gateway's record of what the model reported, read after the wire has written it).
   */
  complete(finish: Finish): Finish {
    const usage = finish.usage;
    if (usage?.inputTokens !== undefined && usage.outputTokens !== undefined) return finish;
    return {
      ...finish,
      usage: {
        ...usage,
        inputTokens: usage?.inputTokens ?? estimateRequestTokens(this.#request),
        outputTokens: usage?.outputTokens ?? Math.ceil(this.chars / 4),
      },
    };
  }
}

/**
 * A whole answer with both counts, as OpenAI's and Anthropic's answers always carry them: itself
 * when the model reported them, else a copy with the missing ones estimated as for a stream (the
 * result itself stays the record of what the model reported).
 */
export function withWholeUsage(result: RegistryResult, request: GenerateRequest): RegistryResult {
  const usage = result.usage;
  if (usage.inputTokens !== undefined && usage.outputTokens !== undefined) return result;
  let chars = result.text.length;
  for (const part of result.reasoning ?? []) chars += part.text.length;
  for (const call of result.toolCalls) {
    const args = call.arguments;
    chars += typeof args === "string" ? args.length : (JSON.stringify(args)?.length ?? 0);
  }
  return withFields(result, {
    usage: {
      ...usage,
      inputTokens: usage.inputTokens ?? estimateRequestTokens(request),
      outputTokens: usage.outputTokens ?? Math.ceil(chars / 4),
    },
  });
}
