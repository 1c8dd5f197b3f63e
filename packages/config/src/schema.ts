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

export const SELECTOR_TYPES = [
  "ucb",
  "thompson",
  "cost",
  "performance",
  "weighted-random",
  "round-robin",
  "contextual",
] as const;

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

/** A Redis node in YAML: `"host:port"`, a `redis://` URL, or `{ host, port }` (checked in redis-section.ts, with clearer messages than a union's). */
const redisNode = z.unknown();

/** Where Redis is (one of url, cluster, sentinels + name) and how to reach it; checked further in redis-section.ts. */
export const REDIS_CONNECTION_SHAPE = {
  url: text.optional(),
  cluster: z.array(redisNode).min(1).optional(),
  sentinels: z.array(redisNode).min(1).optional(),
  name: text.optional(),
  username: text.optional(),
  password: text.optional(),
  sentinel_password: text.optional(),
  operation_timeout: duration.optional(),
  key_prefix: z.string().optional(),
};

/** The top-level `redis:` section: the connection every shared part uses, and which parts share. */
export const redisSchema = z
  .object({
    ...REDIS_CONNECTION_SHAPE,
    statistics: z.boolean().optional(),
    health: z.boolean().optional(),
    limits: z.boolean().optional(),
    decisions: z.boolean().optional(),
    when_unavailable: z.enum(["share", "local", "reject"]).optional(),
  })
  .strict();

export const cacheSchema = z
  .object({
    enabled: z.boolean().default(true),
    backend: z.enum(["memory", "redis"]).default("memory"),
    ttl: duration.optional(),
    max_size: positiveInt.optional(),
    namespace: text.optional(),
    redis: z.object(REDIS_CONNECTION_SHAPE).strict().nullish(),
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

/** The built-in extractor names (the registry's `extractorByName` reads the same spellings). */
export const EXTRACTOR_PATTERN =
  /^(choice|choice-letter|choice:[A-Z]{1,26}|number|last-number|first-number|text|json:[^\s]+)$/;
export const EXTRACTOR_HINT =
  "choice (A–D), choice:<LETTERS> (choice:AB), number, first-number, json:<field.path>, text";

const extractName = z
  .string()
  .refine((v) => EXTRACTOR_PATTERN.test(v), { message: `unknown extractor: use ${EXTRACTOR_HINT}` });
const stageSchema = z.object({ models: z.array(text).min(1), parallel: z.boolean().optional() }).strict();
const acceptSchema = z.union([z.literal("unanimous"), z.object({ at_least: positiveInt }).strict()]);
const cascadeSettings = {
  stages: z.array(stageSchema).min(1).optional(),
  extract: extractName.optional(),
  accept: acceptSchema.optional(),
  prefer: z.enum(["first", "fastest", "cheapest"]).optional(),
  budget_per_request: z.number().gt(0).optional(),
  pacing_rate: z.number().gt(0).lte(1).optional(),
};
export const cascadeTaskSchema = z.object(cascadeSettings).strict();

export const requirementsSchema = z
  .object({
    capabilities: z.array(text).optional(),
    max_cost: nonNegative.optional(),
    min_speed: nonNegative.optional(),
    min_context_window: nonNegativeInt.optional(),
    tasks: z.array(text).optional(),
    languages: z.array(text).optional(),
    providers: z.array(text).optional(),
    exclude_providers: z.array(text).optional(),
    max_latency: duration.optional(),
    local_only: z.boolean().optional(),
  })
  .strict();

export const cascadeRouteSchema = z
  .object({
    name: text,
    type: z.literal("cascade"),
    description: z.string().optional(),
    ...cascadeSettings,
    stages: z.array(stageSchema).min(1),
    extract: extractName,
    tasks: z.record(z.string(), cascadeTaskSchema).optional(),
  })
  .strict();

export const selectorRouteSchema = z
  .object({
    name: text,
    type: z.literal("selector"),
    description: z.string().optional(),
    requirements: requirementsSchema.nullish(),
    selector: selectorSchema.nullish(),
  })
  .strict();

export const ROUTE_TYPES = ["cascade", "selector"] as const;

/** One entry of `keys:` (its `key` is checked apart, so that no message ever echoes it). */
export const staticKeySchema = z
  .object({
    name: text,
    key: z.unknown(),
    budget_usd: z.number().positive().optional(),
    budget_period: z.enum(["day", "month", "total"]).optional(),
    rpm: positiveInt.optional(),
    tpm: positiveInt.optional(),
    models: z.array(text).min(1).optional(),
    metadata: z.record(z.string(), z.string()).optional(),
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
  redis: redisSchema.nullish(),
  routes: z.array(z.unknown()).nullish(),
  keys: z.array(z.unknown()).nullish(),
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
