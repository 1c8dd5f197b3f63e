// What the loopback Anthropic server checks in a request before it answers, as the API does: tool
// call ids, and with extended thinking the rules the API enforces (signed blocks given back
// unchanged and in place, no forced tool, max_tokens above the budget).
import { createHash } from "node:crypto";
import { isRecord } from "../internal/http";

/**
 * The loopback's signature of a thinking block: a digest of its text, so a block given back with
 * other text (or another signature) is refused, as the API refuses a modified block.
 */
export function signatureOf(thinking: string): string {
  return `sig_${createHash("sha256").update(thinking).digest("base64url").slice(0, 24)}`;
}

/**
 * What this server signed: signature and text → how many tool calls came before the block in the
 * answer (a given-back block must be where it was).
 */
export type Issued = Map<string, number>;

/** A given-back thinking block is valid when signed with the digest of its text, or with a signature this server issued for that text. */
function validSignature(block: Record<string, unknown>, issued: Issued): boolean {
  const text = String(block["thinking"]);
  const signature = block["signature"];
  return signature === signatureOf(text) || issued.has(issuedKey(String(signature), text));
}

/** Where `Issued` keeps a block: a thinking one by its signature and text, a redacted one by its data. */
export function issuedKey(signature: string, text: string, redactedData?: string): string {
  return redactedData === undefined ? `${signature}\u0000${text}` : `redacted\u0000${redactedData}`;
}

export function thinkingEnabled(body: Record<string, unknown>): boolean {
  const thinking = body["thinking"];
  return isRecord(thinking) && (thinking["type"] === "enabled" || thinking["type"] === "adaptive");
}

/**
 * The API's rules for a conversation with thinking on: the last assistant turn, when it called a
 * tool, must start with its thinking block; a thinking block's signature must match its text.
 */
const TOOL_ID = /^[a-zA-Z0-9_-]+$/;

/** Like the API: a `tool_use` id and a `tool_result`'s `tool_use_id` must match `^[a-zA-Z0-9_-]+$`. */
export function toolIdProblem(body: Record<string, unknown>): string | undefined {
  const messages = body["messages"];
  if (!Array.isArray(messages)) return undefined;
  for (let i = 0; i < messages.length; i++) {
    const m: unknown = messages[i];
    if (!isRecord(m) || !Array.isArray(m["content"])) continue;
    for (let j = 0; j < m["content"].length; j++) {
      const block: unknown = m["content"][j];
      if (!isRecord(block)) continue;
      const field = block["type"] === "tool_use" ? "id" : block["type"] === "tool_result" ? "tool_use_id" : undefined;
      if (field !== undefined && !TOOL_ID.test(String(block[field])))
        return `messages.${i}.content.${j}.${String(block["type"])}.${field}: String should match pattern '^[a-zA-Z0-9_-]+$'`;
    }
  }
  return undefined;
}

export function thinkingProblem(body: Record<string, unknown>, issued: Issued): string | undefined {
  const thinking = body["thinking"] as Record<string, unknown>;
  const budget = thinking["budget_tokens"];
  if (thinking["type"] === "enabled") {
    if (typeof budget !== "number" || budget < 1024)
      return "thinking.enabled.budget_tokens: Input should be greater than or equal to 1024";
    if (budget >= Number(body["max_tokens"]))
      return "`max_tokens` must be greater than `thinking.budget_tokens`. Please consult our documentation at https://docs.claude.com/en/docs/build-with-claude/extended-thinking#max-tokens-and-context-window-size";
  }
  const choice = body["tool_choice"];
  if (isRecord(choice) && (choice["type"] === "any" || choice["type"] === "tool"))
    return "Thinking may not be enabled when tool_choice forces tool use.";
  const messages = body["messages"] as unknown[];
  let lastAssistant = -1;
  for (let i = 0; i < messages.length; i++) {
    const m = messages[i];
    if (!isRecord(m) || m["role"] !== "assistant" || !Array.isArray(m["content"])) continue;
    lastAssistant = i;
    for (let j = 0; j < m["content"].length; j++) {
      const block: unknown = m["content"][j];
      if (isRecord(block) && block["type"] === "thinking" && !validSignature(block, issued))
        return `messages.${i}.content.${j}: Invalid \`signature\` in \`thinking\` block`;
    }
  }
  const last = messages[lastAssistant];
  if (!isRecord(last) || !Array.isArray(last["content"])) return undefined;
  const blocks = last["content"] as unknown[];
  const callsTool = blocks.some((b) => isRecord(b) && b["type"] === "tool_use");
  const first = blocks[0];
  const startsWithThinking = isRecord(first) && (first["type"] === "thinking" || first["type"] === "redacted_thinking");
  // Interleaved thinking: each block where the model wrote it (after as many tool calls as then).
  let calls = 0;
  for (let j = 0; j < blocks.length; j++) {
    const block = blocks[j];
    if (!isRecord(block)) continue;
    if (block["type"] === "tool_use") calls++;
    if (block["type"] !== "thinking" && block["type"] !== "redacted_thinking") continue;
    const data = block["type"] === "thinking" ? undefined : String(block["data"]);
    const wrote = issued.get(issuedKey(String(block["signature"]), String(block["thinking"]), data));
    if (wrote !== undefined && wrote !== calls)
      return `messages.${lastAssistant}.content.${j}: thinking blocks cannot be rearranged: give them back in the order the model wrote them.`;
  }
  if (callsTool && !startsWithThinking)
    return `messages.${lastAssistant}.content.0.type: Expected \`thinking\` or \`redacted_thinking\`, but found \`${String(isRecord(first) ? first["type"] : "nothing")}\`. When \`thinking\` is enabled, a final \`assistant\` message must start with a thinking block (preceeding the lastmost set of \`tool_use\` and \`tool_result\` blocks).`;
  return undefined;
}
