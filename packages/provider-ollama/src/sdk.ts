import { lazyModule } from "@orchestrator-ts/core/internal";

// The client is loaded when the first model initialises, not with this package: an application
// without an Ollama model never loads it (nor the fetch polyfill it brings).

export type OllamaSdk = typeof import("ollama");

// The CommonJS build requires it (a literal require, which bundlers follow): the copy a CommonJS
// application has, not the package's ESM build.
const sdk = lazyModule<OllamaSdk>(
  () =>
    typeof __ORCHESTRATOR_CJS__ === "boolean" && __ORCHESTRATOR_CJS__
      ? Promise.resolve(require("ollama") as OllamaSdk)
      : import("ollama"),
  { package: "ollama", neededBy: "The Ollama provider" },
);

/** The client package, imported once. */
export const loadOllamaSdk = sdk.load;
