import { lazyModule } from "@orchestrator-ts/core/internal";

// The Anthropic SDK is loaded when the first model initialises, not when this package is imported:
// it is the largest thing an application that imports the orchestrator but calls no Claude model
// would load (~270 modules, ~5 MB of heap, ~250 ms here).

export type AnthropicSdk = typeof import("@anthropic-ai/sdk");

// The CommonJS build requires it (a literal require, which bundlers follow): the copy a CommonJS
// application has, not the SDK's second (ESM) build.
const sdk = lazyModule<AnthropicSdk>(
  () =>
    typeof __ORCHESTRATOR_CJS__ === "boolean" && __ORCHESTRATOR_CJS__
      ? Promise.resolve(require("@anthropic-ai/sdk") as AnthropicSdk)
      : import("@anthropic-ai/sdk"),
  { package: "@anthropic-ai/sdk", neededBy: "The Anthropic provider" },
);

/** The SDK, imported once. */
export const loadAnthropicSdk = sdk.load;

/** The SDK if a model has loaded it; its errors cannot exist before then. */
export const anthropicSdkIfLoaded = sdk.loaded;
