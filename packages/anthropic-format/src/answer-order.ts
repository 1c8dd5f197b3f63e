import type { ReasoningPart } from "@orchestrator-ts/core";

/**
 * Blocks in the order the model wrote them: reasoning parts placed by `afterToolCalls` (absent or
 * 0: first), the text, then the tool calls with the reasoning that came after each. `blocks[i]` is
 * `parts[i]`'s block (a part left out has `undefined`).
 */
export function inAnswerOrder<T>(
  parts: readonly ReasoningPart[],
  blocks: readonly (T | undefined)[],
  texts: readonly T[],
  tools: readonly T[],
): T[] {
  const out: T[] = [];
  const placed = (after: number) => {
    for (let i = 0; i < parts.length; i++) {
      const at = Math.min((parts[i] as ReasoningPart).afterToolCalls ?? 0, tools.length);
      const block = blocks[i];
      if (at === after && block !== undefined) out.push(block);
    }
  };
  placed(0);
  out.push(...texts);
  for (let i = 0; i < tools.length; i++) {
    out.push(tools[i] as T);
    placed(i + 1);
  }
  return out;
}
