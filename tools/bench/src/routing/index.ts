import type { CaseResult } from "../harness";
import { runRouting } from "./routerbench";

export { runRouting, type RoutingOptions } from "./routerbench";

/**
 * The routing case for `npm run bench`: not a timing comparison, so `results` is empty and the
 * Markdown report goes in `notes`; the full numbers are in `extra` (routing.svg is written beside).
 */
export async function routingCase(options: { quick?: boolean } = {}): Promise<CaseResult> {
  const { result, md } = await runRouting({ quick: options.quick ?? false, seeds: options.quick ? 5 : 20 });
  return {
    case: "routing",
    date: new Date().toISOString(),
    node: process.version,
    notes: md,
    results: [],
    extra: result,
  };
}
