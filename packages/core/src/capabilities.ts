import { z } from "zod";
import { parseOrThrow } from "./validation";

const nonNegative = z.number().finite().nonnegative();
const positiveInt = z.number().int().positive();

export const modelCapabilitiesSchema = z
  .object({
    textGeneration: z.boolean().default(true),
    codeGeneration: z.boolean().default(false),
    functionCalling: z.boolean().default(false),
    vision: z.boolean().default(false),
    audio: z.boolean().default(false),
    /** The token limit of one request, as the seed uses it (claude-3-opus: 200000). */
    maxTokens: positiveInt.default(4096),
    /** Largest prompt + completion in tokens; defaults to `maxTokens`. */
    contextWindow: positiveInt.optional(),
    /** Largest completion in tokens, when the provider limits it separately. */
    maxOutputTokens: positiveInt.optional(),
    supportsStreaming: z.boolean().default(false),
    supportsFunctions: z.boolean().default(false),
    structuredOutput: z.boolean().default(false),
    /** USD per prompt token. */
    inputCostPerToken: nonNegative.default(0),
    /** USD per completion token. */
    outputCostPerToken: nonNegative.default(0),
    /** Declared generation speed (tokens/s), used for `minSpeed` until observed speeds exist. */
    tokensPerSecond: nonNegative.optional(),
    /** Task tags the model is good for (`"code"`, `"chat"`, `"summarise"`…). */
    tasks: z.array(z.string().min(1)).default([]),
    /** Languages (BCP 47 or names) the model handles; empty means unspecified. */
    languages: z.array(z.string().min(1)).default([]),
  })
  .strict();

export type ModelCapabilitiesInput = z.input<typeof modelCapabilitiesSchema>;

/** Boolean capability names usable in `selectModel({ capabilities: [...] })`. */
export type CapabilityName =
  | "textGeneration"
  | "codeGeneration"
  | "functionCalling"
  | "vision"
  | "audio"
  | "supportsStreaming"
  | "supportsFunctions"
  | "structuredOutput";

export const CAPABILITY_NAMES: readonly CapabilityName[] = [
  "textGeneration",
  "codeGeneration",
  "functionCalling",
  "vision",
  "audio",
  "supportsStreaming",
  "supportsFunctions",
  "structuredOutput",
];

/**
 * What a model can do and what it costs. Validated on construction: a bad value throws a
 * `ConfigError` naming the field. Immutable; `with()` returns a changed copy.
 */
export class ModelCapabilities {
  readonly textGeneration!: boolean;
  readonly codeGeneration!: boolean;
  readonly functionCalling!: boolean;
  readonly vision!: boolean;
  readonly audio!: boolean;
  readonly maxTokens!: number;
  readonly contextWindow!: number;
  readonly maxOutputTokens: number | undefined;
  readonly supportsStreaming!: boolean;
  readonly supportsFunctions!: boolean;
  readonly structuredOutput!: boolean;
  readonly inputCostPerToken!: number;
  readonly outputCostPerToken!: number;
  readonly tokensPerSecond: number | undefined;
  readonly tasks!: readonly string[];
  readonly languages!: readonly string[];

  constructor(input: ModelCapabilitiesInput = {}, pathPrefix = "") {
    const parsed = parseOrThrow(modelCapabilitiesSchema, input ?? {}, "model capabilities", pathPrefix);
    // functionCalling and supportsFunctions are two spellings of one fact in the seed.
    const functions = parsed.functionCalling || parsed.supportsFunctions;
    Object.assign(this, parsed, {
      functionCalling: functions,
      supportsFunctions: functions,
      contextWindow: parsed.contextWindow ?? parsed.maxTokens,
      maxOutputTokens: parsed.maxOutputTokens,
      tokensPerSecond: parsed.tokensPerSecond,
      tasks: Object.freeze([...parsed.tasks]),
      languages: Object.freeze([...parsed.languages]),
    });
    Object.freeze(this);
  }

  static from(value: ModelCapabilities | ModelCapabilitiesInput | undefined): ModelCapabilities {
    return value instanceof ModelCapabilities ? value : new ModelCapabilities(value ?? {});
  }

  /** A copy with some fields changed (validated again). */
  with(changes: ModelCapabilitiesInput): ModelCapabilities {
    return new ModelCapabilities({ ...this.toJSON(), ...changes });
  }

  has(name: CapabilityName): boolean {
    return this[name] === true;
  }

  toJSON(): ModelCapabilitiesInput {
    const out: Record<string, unknown> = {};
    for (const key of Object.keys(this)) {
      const value = (this as unknown as Record<string, unknown>)[key];
      if (value !== undefined) out[key] = Array.isArray(value) ? [...value] : value;
    }
    return out as ModelCapabilitiesInput;
  }
}

export const modelConstraintsSchema = z
  .object({
    maxRequestsPerMinute: positiveInt.optional(),
    maxConcurrentRequests: positiveInt.optional(),
    requiredMemoryGb: nonNegative.optional(),
    requiredGpuMemoryGb: nonNegative.optional(),
    /** How long a call may wait for a free slot under these limits before it rejects. */
    queueTimeoutMs: nonNegative.default(30_000),
  })
  .strict();

export type ModelConstraintsInput = z.input<typeof modelConstraintsSchema>;

/** Operational limits of a model: rates, concurrency, resources. Validated like capabilities. */
export class ModelConstraints {
  readonly maxRequestsPerMinute: number | undefined;
  readonly maxConcurrentRequests: number | undefined;
  readonly requiredMemoryGb: number | undefined;
  readonly requiredGpuMemoryGb: number | undefined;
  readonly queueTimeoutMs!: number;

  constructor(input: ModelConstraintsInput = {}, pathPrefix = "") {
    const parsed = parseOrThrow(modelConstraintsSchema, input ?? {}, "model constraints", pathPrefix);
    this.maxRequestsPerMinute = parsed.maxRequestsPerMinute;
    this.maxConcurrentRequests = parsed.maxConcurrentRequests;
    this.requiredMemoryGb = parsed.requiredMemoryGb;
    this.requiredGpuMemoryGb = parsed.requiredGpuMemoryGb;
    this.queueTimeoutMs = parsed.queueTimeoutMs;
    Object.freeze(this);
  }

  static from(value: ModelConstraints | ModelConstraintsInput | undefined): ModelConstraints {
    return value instanceof ModelConstraints ? value : new ModelConstraints(value ?? {});
  }

  toJSON(): ModelConstraintsInput {
    return Object.fromEntries(Object.entries(this).filter(([, v]) => v !== undefined)) as ModelConstraintsInput;
  }
}
