import { ConfigError, type Model, SpecificationVersionError } from "@orchestrator-ts/core";
import { specificationMismatch } from "@orchestrator-ts/core/internal";
import type { Entry } from "./eligibility";
import { AUTO_ROUTE } from "./routes/route";

/** What `checkRegistration` needs to know of the registry. */
export interface RegistrationContext {
  /** A route has this name. */
  isRoute(name: string): boolean;
  /** The registered model of this name. */
  registered(name: string): Entry | undefined;
  /** The caller's `{ replace: true }`. */
  replace: boolean | undefined;
}

/**
 * Why `model` cannot be registered, as a `ConfigError` (or `SpecificationVersionError`): not a
 * `Model`, built against another contract, named like a route, or named like a registered model
 * without `replace`. Returns the registered model it replaces.
 */
export function checkRegistration(model: Model, options: RegistrationContext): Entry | undefined {
  if (!model || typeof model !== "object" || typeof model.name !== "string" || typeof model.generate !== "function") {
    throw new ConfigError(
      [
        {
          path: "model",
          message: "registerModel expects a Model instance (a subclass of Model from @orchestrator-ts/core)",
        },
      ],
      { title: "Cannot register model" },
    );
  }
  // A model package built against another core would break in ways far from their cause.
  const mismatch = specificationMismatch(
    `model "${model.name}" (${model.constructor?.name ?? "object"})`,
    model.specificationVersion,
  );
  if (mismatch !== undefined)
    throw new SpecificationVersionError([{ path: "model", message: mismatch }], { model: model.name });
  if (options.isRoute(model.name) || model.name === AUTO_ROUTE) {
    throw new ConfigError(
      [
        {
          path: "name",
          message: `"${model.name}" is ${model.name === AUTO_ROUTE ? "reserved (it asks the selector)" : "the name of a route"}: a request for it could not tell the two apart`,
        },
      ],
      { title: "Cannot register model" },
    );
  }
  const existing = options.registered(model.name);
  if (existing && !options.replace) {
    throw new ConfigError(
      [
        {
          path: "name",
          message: `a model named "${model.name}" is already registered; pass { replace: true } to replace it`,
        },
      ],
      { title: "Cannot register model" },
    );
  }
  return existing;
}
