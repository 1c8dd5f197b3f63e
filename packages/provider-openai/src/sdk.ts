import { lazyModule } from "@orchestrator-ts/core/internal";

// The openai SDK is imported when the first model initialises, not when this package is: an
// application that imports the orchestrator for local or Anthropic models never loads it (~150
// modules, ~120 ms and ~13 MB of RSS here).

export type OpenAISdk = typeof import("openai");

// The CommonJS build requires it (a literal require, which bundlers follow): the copy a CommonJS
// application has, not the SDK's second (ESM) build.
const sdk = lazyModule<OpenAISdk>(
  () =>
    typeof __ORCHESTRATOR_CJS__ === "boolean" && __ORCHESTRATOR_CJS__
      ? Promise.resolve(require("openai") as OpenAISdk)
      : import("openai"),
  { package: "openai", neededBy: "The OpenAI provider" },
);

/** The SDK, imported once. */
export const loadOpenAISdk = sdk.load;

/** The SDK, which a model's initialisation has loaded. */
export function openAISdk(): OpenAISdk {
  const loaded = sdk.loaded();
  if (loaded === undefined) throw new Error("The openai SDK is not loaded yet: a model loads it when it initialises.");
  return loaded;
}

/**
 * Whether `error` is an instance of the SDK class `name`: of the copy this package loaded, else by
 * the class names on its prototype chain — which works before this package has loaded the SDK and
 * for errors from any other copy of it (its ESM and CommonJS builds are two sets of classes). The
 * first check is what still holds in a minified bundle, where class names are mangled.
 */
export function isSdkError(error: unknown, name: SdkErrorClass): boolean {
  if (!(error instanceof Error)) return false;
  const own = sdk.loaded()?.[name];
  if (typeof own === "function" && error instanceof own) return true;
  for (
    let proto = Object.getPrototypeOf(error);
    proto !== null && proto !== Error.prototype;
    proto = Object.getPrototypeOf(proto)
  )
    if (proto.constructor?.name === name) return true;
  return false;
}

export type SdkErrorClass = "APIError" | "APIUserAbortError" | "APIConnectionError" | "APIConnectionTimeoutError";
