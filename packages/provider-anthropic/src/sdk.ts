// The Anthropic SDK is loaded when the first model initialises, not when this package is imported:
// it is the largest thing an application that imports the orchestrator but calls no Claude model
// would load (~270 modules, ~5 MB of heap, ~250 ms here).

export type AnthropicSdk = typeof import("@anthropic-ai/sdk");

let loaded: AnthropicSdk | undefined;
let loading: Promise<AnthropicSdk> | undefined;

/** The SDK, imported once. */
export function loadAnthropicSdk(): Promise<AnthropicSdk> {
  loading ??= import("@anthropic-ai/sdk").then((sdk) => {
    loaded = sdk;
    return sdk;
  });
  return loading;
}

/** The SDK if a model has loaded it; its errors cannot exist before then. */
export function anthropicSdkIfLoaded(): AnthropicSdk | undefined {
  return loaded;
}
