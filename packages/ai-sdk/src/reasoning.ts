// A model's reasoning ("thinking") across the bridge, both ways. The AI SDK carries it as
// `reasoning` parts (result content, stream parts with ids, prompt parts); what lets a part be
// given back to Anthropic — a thinking block's signature, a redacted block's data — rides in
// `providerMetadata.anthropic` (results, stream parts) and `providerOptions.anthropic` (prompts),
// where `@ai-sdk/anthropic` writes and reads it. Ours is the core's `ReasoningPart`.
import type { ReasoningPart, StreamChunk } from "@orchestrator-ts/core";
import type {
  LanguageModelV3Content,
  LanguageModelV3ReasoningPart,
  LanguageModelV3StreamPart,
  SharedV3ProviderMetadata,
} from "@ai-sdk/provider";

type ReasoningChunk = Extract<StreamChunk, { type: "reasoning" }>;
/** `providerMetadata` of a result or stream part, or `providerOptions` of a prompt part: the same shape. */
type Metadata = Readonly<Record<string, Readonly<Record<string, unknown>> | undefined>> | undefined;

/** The key of `providerMetadata` / `providerOptions` that carries signatures (as `@ai-sdk/anthropic` names it). */
const KEY = "anthropic";

function field(metadata: Metadata, name: "signature" | "redactedData"): string | undefined {
  const value = metadata?.[KEY]?.[name];
  return typeof value === "string" && value !== "" ? value : undefined;
}

/** An AI SDK reasoning part (result content or prompt part) as ours; `undefined` when it carries nothing. */
export function fromReasoning(text: string, metadata: Metadata): ReasoningPart | undefined {
  const redactedData = field(metadata, "redactedData");
  if (redactedData !== undefined) return { type: "reasoning", text: "", redactedData };
  const signature = field(metadata, "signature");
  if (signature !== undefined) return { type: "reasoning", text, signature };
  return text === "" ? undefined : { type: "reasoning", text };
}

/** What carries a part's signature or redacted data for the AI SDK; `undefined` for a plain part. */
function metadataOf(part: {
  signature?: string | undefined;
  redactedData?: string | undefined;
}): SharedV3ProviderMetadata | undefined {
  if (part.redactedData !== undefined) return { [KEY]: { redactedData: part.redactedData } };
  if (part.signature !== undefined) return { [KEY]: { signature: part.signature } };
  return undefined;
}

/** Our reasoning as the AI SDK's result content (it goes before the text, as it came). */
export function reasoningContent(parts: readonly ReasoningPart[] | undefined): LanguageModelV3Content[] {
  const out: LanguageModelV3Content[] = [];
  if (parts === undefined) return out;
  for (const part of parts) {
    const metadata = metadataOf(part);
    out.push(
      metadata === undefined
        ? { type: "reasoning", text: part.text }
        : { type: "reasoning", text: part.text, providerMetadata: metadata },
    );
  }
  return out;
}

/** Our reasoning given back as the AI SDK's prompt parts (an assistant message's first). */
export function reasoningPromptParts(parts: readonly ReasoningPart[]): LanguageModelV3ReasoningPart[] {
  return parts.map((part) => {
    const options = metadataOf(part);
    return options === undefined
      ? { type: "reasoning", text: part.text }
      : { type: "reasoning", text: part.text, providerOptions: options };
  });
}

type Enqueue = (part: LanguageModelV3StreamPart) => void;

/**
 * Writes a stream's text and reasoning as the AI SDK's parts, never mixed: each part starts, takes
 * its deltas and ends apart. Our reasoning chunks make one part until one carries its signature
 * (the last delta then carries it in `providerMetadata.anthropic`, as `@ai-sdk/anthropic` sends
 * Anthropic's `signature_delta`, and the part ends); a redacted block is a start and an end, with
 * its data on the start.
 */
export class StreamPartWriter {
  readonly #enqueue: Enqueue;
  #text: string | undefined;
  #reasoning: string | undefined;
  #texts = 0;
  #reasonings = 0;

  constructor(enqueue: Enqueue) {
    this.#enqueue = enqueue;
  }

  text(delta: string): void {
    this.endReasoning();
    if (this.#text === undefined) {
      this.#text = `text-${this.#texts++}`;
      this.#enqueue({ type: "text-start", id: this.#text });
    }
    this.#enqueue({ type: "text-delta", id: this.#text, delta });
  }

  reasoning(chunk: ReasoningChunk): void {
    this.#endText();
    if (chunk.redactedData !== undefined) {
      this.endReasoning();
      const id = `reasoning-${this.#reasonings++}`;
      this.#enqueue({ type: "reasoning-start", id, providerMetadata: metadataOf(chunk) as SharedV3ProviderMetadata });
      this.#enqueue({ type: "reasoning-end", id });
      return;
    }
    if (this.#reasoning === undefined) {
      this.#reasoning = `reasoning-${this.#reasonings++}`;
      this.#enqueue({ type: "reasoning-start", id: this.#reasoning });
    }
    const id = this.#reasoning;
    if (chunk.signature !== undefined) {
      this.#enqueue({ type: "reasoning-delta", id, delta: chunk.text, providerMetadata: metadataOf(chunk) });
      this.endReasoning();
    } else if (chunk.text !== "") this.#enqueue({ type: "reasoning-delta", id, delta: chunk.text });
  }

  /** Ends an unsigned reasoning part left open (the answer goes on: text, a tool call, the finish). */
  endReasoning(): void {
    if (this.#reasoning === undefined) return;
    this.#enqueue({ type: "reasoning-end", id: this.#reasoning });
    this.#reasoning = undefined;
  }

  /** Ends whatever is open: the stream finishes or fails. */
  end(): void {
    this.endReasoning();
    this.#endText();
  }

  #endText(): void {
    if (this.#text === undefined) return;
    this.#enqueue({ type: "text-end", id: this.#text });
    this.#text = undefined;
  }
}

/**
 * Reads the AI SDK's reasoning stream parts as our reasoning chunks: deltas as they come, a
 * signature (on a delta, as `@ai-sdk/anthropic` sends it, or on the part's end) as the chunk that
 * ends the part, a redacted block (its data on the start) whole.
 */
export class ReasoningStreamReader {
  /** Parts already signed: a signature repeated on the end is not a second one. */
  readonly #signed = new Set<string>();

  push(part: { type: string; id: string; delta?: string; providerMetadata?: Metadata }, out: StreamChunk[]): void {
    const metadata = part.providerMetadata;
    switch (part.type) {
      case "reasoning-start": {
        const redactedData = field(metadata, "redactedData");
        if (redactedData !== undefined) {
          this.#signed.add(part.id);
          out.push({ type: "reasoning", text: "", redactedData });
        }
        return;
      }
      case "reasoning-delta": {
        const text = part.delta ?? "";
        const signature = this.#signed.has(part.id) ? undefined : field(metadata, "signature");
        if (signature !== undefined) {
          this.#signed.add(part.id);
          out.push({ type: "reasoning", text, signature });
        } else if (text !== "") out.push({ type: "reasoning", text });
        return;
      }
      case "reasoning-end": {
        const signature = this.#signed.has(part.id) ? undefined : field(metadata, "signature");
        if (signature !== undefined) out.push({ type: "reasoning", text: "", signature });
        this.#signed.delete(part.id);
        return;
      }
    }
  }
}

/**
 * `providerOptions.anthropic.thinking` with its budget spelled for the side that reads it:
 * `@ai-sdk/anthropic` takes `budgetTokens`; the API — and so `AnthropicModel`, which sends
 * `providerOptions.anthropic` as it is — `budget_tokens`. Returns the options unchanged (the same
 * object) when there is nothing to respell; never changes the caller's.
 */
export function respellThinkingBudget<T extends Record<string, unknown>>(
  providerOptions: T,
  to: "budget_tokens" | "budgetTokens",
): T {
  const anthropic = providerOptions[KEY];
  if (typeof anthropic !== "object" || anthropic === null) return providerOptions;
  const thinking = (anthropic as Record<string, unknown>).thinking;
  if (typeof thinking !== "object" || thinking === null) return providerOptions;
  const from = to === "budget_tokens" ? "budgetTokens" : "budget_tokens";
  const given = thinking as Record<string, unknown>;
  if (given[from] === undefined || given[to] !== undefined) return providerOptions;
  const { [from]: budget, ...rest } = given;
  return { ...providerOptions, [KEY]: { ...anthropic, thinking: { ...rest, [to]: budget } } };
}
