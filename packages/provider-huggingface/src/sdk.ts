import { lazyModule } from "@orchestrator-ts/core/internal";

// Which module system this build is for: set per format by the build (tools/tsup.shared.ts), so that the
// other branch is left out of it; undefined in the sources (ES modules, as the tests run them).
declare const __ORCHESTRATOR_CJS__: boolean | undefined;

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
