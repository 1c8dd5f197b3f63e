import { lazyModule } from "@orchestrator-ts/core/internal";

// The Inference client is loaded when the first model initialises, not with this package: ~150 modules
// an application without a Hugging Face model never needs.

export type HuggingFaceSdk = typeof import("@huggingface/inference");

// The CommonJS build requires it (a literal require, which bundlers follow): the copy a CommonJS
// application has, not the package's ESM build.
const sdk = lazyModule<HuggingFaceSdk>(
  () =>
    typeof __ORCHESTRATOR_CJS__ === "boolean" && __ORCHESTRATOR_CJS__
      ? Promise.resolve(require("@huggingface/inference") as HuggingFaceSdk)
      : import("@huggingface/inference"),
  { package: "@huggingface/inference", neededBy: "The Hugging Face provider" },
);

/** The client package, imported once. */
export const loadHuggingFaceSdk = sdk.load;
