import { ModelCapabilities, type ModelCapabilitiesInput } from "./capabilities";

/**
 * What a provider knows of a model (its price table's entry, or a conservative default) merged
 * with what the caller declared; the caller wins. Prices never silently become 0 on a paid
 * endpoint: a declared `ModelCapabilities` whose prices are both 0 (the class's default, e.g.
 * YAML capabilities without costs) keeps the known price; a plain object sets prices, 0 included.
 * A declared `maxTokens` without a `contextWindow` drops the known window (core reads an unset
 * window as `maxTokens`), and a declared `functionCalling` / `supportsFunctions` decides both.
 * `priceSource` is `"declared"` when the caller set a price, else the provider's `fallbackSource`.
 */
export function mergeDeclaredCapabilities<Source extends string>(
  known: ModelCapabilitiesInput,
  given: ModelCapabilities | ModelCapabilitiesInput | undefined,
  fallbackSource: Source,
): { capabilities: ModelCapabilities | ModelCapabilitiesInput; priceSource: Source | "declared" } {
  if (given === undefined) return { capabilities: known, priceSource: fallbackSource };
  if (given instanceof ModelCapabilities) {
    // A class instance cannot tell a declared 0 from the default 0: keep the known price.
    if (
      given.inputCostPerToken === 0 &&
      given.outputCostPerToken === 0 &&
      ((known.inputCostPerToken ?? 0) > 0 || (known.outputCostPerToken ?? 0) > 0)
    ) {
      return {
        capabilities: given.with({
          inputCostPerToken: known.inputCostPerToken ?? 0,
          outputCostPerToken: known.outputCostPerToken ?? 0,
        }),
        priceSource: fallbackSource,
      };
    }
    return { capabilities: given, priceSource: "declared" };
  }
  const merged: ModelCapabilitiesInput = { ...known, ...given };
  if (given.maxTokens !== undefined && given.contextWindow === undefined) merged.contextWindow = undefined;
  if (given.functionCalling !== undefined || given.supportsFunctions !== undefined) {
    const functions = given.functionCalling === true || given.supportsFunctions === true;
    merged.functionCalling = functions;
    merged.supportsFunctions = functions;
  }
  const declaredPrice = given.inputCostPerToken !== undefined || given.outputCostPerToken !== undefined;
  return { capabilities: merged, priceSource: declaredPrice ? "declared" : fallbackSource };
}

/** True for http(s) URLs on this machine (localhost, 127.0.0.0/8, ::1): such a server is local and free. */
export function isLoopbackURL(url: string): boolean {
  let host: string;
  try {
    host = new URL(url).hostname;
  } catch {
    return false;
  }
  return (
    host === "localhost" ||
    host.endsWith(".localhost") ||
    host === "[::1]" ||
    host === "::1" ||
    /^127\.\d+\.\d+\.\d+$/.test(host)
  );
}
