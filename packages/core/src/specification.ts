import { ConfigError, type ConfigIssue, type OrchestratorErrorOptions } from "./errors";

/**
 * The version of the contracts a model package is written against: the `Model` base class (what
 * `doGenerate` / `doStream` receive and return) and the provider-plugin contract (`defineProvider`).
 * A package carries the version of the core it was built with (`Model.specificationVersion`, a
 * plugin's `specificationVersion`); the registry and the config loader refuse one built for another
 * version with a `SpecificationVersionError` instead of failing obscurely in its first call.
 * Bumped only when either contract changes incompatibly.
 */
export const SPECIFICATION_VERSION = "v1";

export type SpecificationVersion = `v${number}`;

/** A model or provider plugin built for another version of the contracts than this core implements. */
export class SpecificationVersionError extends ConfigError {
  static override readonly errorName: string = "SpecificationVersionError";
  override readonly code: string = "specification_version_error";
  /** The version this copy of `@orchestrator-ts/core` implements. */
  readonly expected: string = SPECIFICATION_VERSION;
  constructor(issues: readonly ConfigIssue[], options: OrchestratorErrorOptions & { title?: string } = {}) {
    super(issues, { title: "Built for another version of @orchestrator-ts/core", ...options });
  }
}

/**
 * Why `found` is not this core's version (`undefined` when it is). `what` names the package or
 * model for the message: `provider package "@acme/x"`, `model "gpt-4o"`.
 */
export function specificationMismatch(what: string, found: unknown): string | undefined {
  // No version at all: a plugin or model written by hand against this core (not through
  // defineProvider or the Model base class), which declares nothing to contradict.
  if (found === undefined || found === SPECIFICATION_VERSION) return undefined;
  const declared =
    typeof found === "string"
      ? `was built for specification ${JSON.stringify(found).slice(0, 40)}`
      : `declares an invalid specificationVersion (${typeof found})`;
  return `${what} ${declared}, but this @orchestrator-ts/core implements ${SPECIFICATION_VERSION}: install a version of it built for ${SPECIFICATION_VERSION} (one that depends on this @orchestrator-ts/core)`;
}
