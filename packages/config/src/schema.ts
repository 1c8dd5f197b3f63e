import { Secret, modelCapabilitiesSchema, modelConstraintsSchema } from "@orchestrator-ts/core";
import { z } from "zod";
import { DURATION_HINT, parseDuration } from "./duration";
import { camelToSnake } from "./names";

/** A duration in YAML (seconds, or a string with a unit) → milliseconds. */
export const duration = z.unknown().transform((value, ctx) => {
  const ms = parseDuration(value);
  if (ms !== undefined) return ms;
  ctx.addIssue({ code: "custom", message: `invalid duration ${describe(value)}: use ${DURATION_HINT}` });
  return z.NEVER;
});

const positiveInt = z.number().int().positive();
const nonNegativeInt = z.number().int().nonnegative();
const nonNegative = z.number().nonnegative();
const text = z.string().min(1);

/** YAML key ↔ TypeScript key of a derived section. */
export interface FieldMap {
  /** YAML key → TypeScript key. */
  toTs: ReadonlyMap<string, string>;
}

/**
 * The snake_case YAML schema of a core camelCase schema, derived so the two never drift:
 * `maxTokens` → `max_tokens`; a `…Ms` field becomes a duration without the suffix
 * (`queueTimeoutMs` → `queue_timeout: 30`).
 */
function snakeOf(shape: Record<string, z.ZodType>): { schema: Record<string, z.ZodType>; fields: Map<string, string> } {
  const schema: Record<string, z.ZodType> = {};
  const fields = new Map<string, string>();
  for (const [key, value] of Object.entries(shape)) {
    if (key.endsWith("Ms")) {
      const yamlKey = camelToSnake(key.slice(0, -2));
      schema[yamlKey] = duration.optional();
      fields.set(yamlKey, key);
    } else {
      const yamlKey = camelToSnake(key);
      schema[yamlKey] = value.optional();
      fields.set(yamlKey, key);
    }
  }
  return { schema, fields };
}

const capabilities = snakeOf(modelCapabilitiesSchema.shape);
const constraints = snakeOf(modelConstraintsSchema.shape);
export const CAPABILITY_FIELDS: ReadonlyMap<string, string> = capabilities.fields;
export const CONSTRAINT_FIELDS: ReadonlyMap<string, string> = constraints.fields;

export const capabilitiesSchema = z.object(capabilities.schema).strict();
export const constraintsSchema = z
  .object({
    ...constraints.schema,
    /** The seed's spelling: one price for prompt and completion tokens (USD per token). */
    cost_per_token: nonNegative.optional(),
  })
  .strict();

export const modelSchema = z
  .object({
    name: text,
    provider: text,
    config: z.record(z.string(), z.unknown()).nullish(),
    capabilities: capabilitiesSchema.nullish(),
    constraints: constraintsSchema.nullish(),
  })
  .strict();

export const SELECTOR_TYPES = ["ucb", "thompson", "cost", "performance", "weighted-random", "round-robin", "contextual"] as const;

/** Which selector types each option belongs to: an option of another type is an error, not silently ignored. */
export const SELECTOR_OPTIONS: Readonly<Record<string, readonly (typeof SELECTOR_TYPES)[number][]>> = {
  exploration_factor: ["ucb"],
  min_trials: ["ucb", "thompson"],
  discount: ["ucb", "thompson"],
  window: ["ucb", "thompson"],
  max_cost_per_request: ["cost"],
  prefer_local_models: ["cost"],
  min_tokens_per_second: ["performance"],
  max_response_time: ["performance"],
  prefer_streaming: ["performance"],
  weights: ["weighted-random"],
  exploration: ["contextual"],
  alpha: ["contextual"],
  ridge: ["contextual"],
  lambda: ["contextual"],
  budget_per_request: ["contextual"],
  pacing_rate: ["contextual"],
  epsilon: ["contextual"],
  learn_from: ["contextual"],
  dimensions: ["contextual"],
  decision_log: ["contextual"],
  seed: ["contextual"],
};

export const selectorSchema = z
  .object({
    type: z.enum(SELECTOR_TYPES).default("ucb"),
    exploration_factor: nonNegative.optional(),
    min_trials: nonNegativeInt.optional(),
    discount: z.number().gt(0).lte(1).optional(),
    window: positiveInt.optional(),
    max_cost_per_request: nonNegative.optional(),
    prefer_local_models: z.boolean().optional(),
    min_tokens_per_second: nonNegative.optional(),
    max_response_time: duration.optional(),
    prefer_streaming: z.boolean().optional(),
    weights: z.record(z.string(), nonNegative).optional(),
    exploration: z.enum(["linucb", "thompson", "greedy"]).optional(),
    alpha: nonNegative.optional(),
    ridge: z.number().gt(0).optional(),
    lambda: nonNegative.optional(),
    budget_per_request: z.number().gt(0).optional(),
    pacing_rate: z.number().gt(0).lte(1).optional(),
    epsilon: z.number().gte(0).lte(1).optional(),
    learn_from: z.enum(["feedback", "reward"]).optional(),
    dimensions: positiveInt.optional(),
    decision_log: text.optional(),
    seed: nonNegativeInt.optional(),
  })
  .strict();

export const cacheSchema = z
  .object({
    enabled: z.boolean().default(true),
    backend: z.enum(["memory", "redis"]).default("memory"),
    ttl: duration.optional(),
    max_size: positiveInt.optional(),
    namespace: text.optional(),
    redis: z.object({ url: text.optional(), key_prefix: z.string().optional() }).strict().nullish(),
  })
  .strict();

export const healthSchema = z
  .object({
    enabled: z.boolean().default(true),
    check_interval: duration.optional(),
    failure_threshold: positiveInt.optional(),
    recovery_threshold: positiveInt.optional(),
    timeout: duration.optional(),
    concurrency: positiveInt.optional(),
  })
  .strict();

export const executionSchema = z
  .object({
    max_retries: nonNegativeInt.optional(),
    max_fallbacks: nonNegativeInt.optional(),
    timeout: duration.optional(),
    backoff: z
      .object({
        initial: duration.optional(),
        max: duration.optional(),
        multiplier: z.number().gte(1).optional(),
        jitter: z.boolean().optional(),
      })
      .strict()
      .nullish(),
    fallbacks: z.record(z.string(), z.array(text)).optional(),
  })
  .strict();

export const telemetrySchema = z
  .object({
    enabled: z.boolean().default(true),
    capture_content: z.boolean().optional(),
  })
  .strict();

/** Top-level sections; `models` is checked entry by entry so every entry's problems are reported. */
export const SECTIONS = {
  models: z.array(z.unknown()).min(1),
  selector: selectorSchema.nullish(),
  cache: cacheSchema.nullish(),
  health: healthSchema.nullish(),
  execution: executionSchema.nullish(),
  telemetry: telemetrySchema.nullish(),
} as const;

export function describe(value: unknown): string {
  if (value === null || value === undefined) return "an empty value";
  if (Secret.isSecret(value)) return "a secret value";
  if (typeof value === "string") return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value);
  if (Array.isArray(value)) return "a list";
  if (typeof value === "object") return "a mapping";
  return String(value);
}
