import { COMMONJS_BUILD, lazyModule } from "@orchestrator-ts/core/internal";

// The openai SDK is imported when the first model initialises, not when this package is: an
// application that imports the orchestrator for local or Anthropic models never loads it (~150
// modules, ~120 ms and ~13 MB of RSS here).

export type OpenAISdk = typeof import("openai");

// The CommonJS build requires it: the copy a CommonJS application has, not the SDK's second (ESM) build.
const sdk = lazyModule<OpenAISdk>(() =>
  COMMONJS_BUILD ? Promise.resolve(require("openai") as OpenAISdk) : import("openai"),
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
 * Whether `error` is an instance of the SDK class `name`, by the class names on its prototype
 * chain: works before this package has loaded the SDK and for errors from any copy of it (its
 * ESM and CommonJS builds are two sets of classes).
 */
export function isSdkError(error: unknown, name: string): boolean {
  if (!(error instanceof Error)) return false;
  for (
    let proto = Object.getPrototypeOf(error);
    proto !== null && proto !== Error.prototype;
    proto = Object.getPrototypeOf(proto)
  )
    if (proto.constructor?.name === name) return true;
  return false;
}
