import {
  type ArmStats,
  type CapabilityName,
  type ExclusionReason,
  type GenerateRequest,
  type HealthState,
  type Model,
  type NormalizedRequirements,
  REFERENCE_OUTPUT_TOKENS,
  REFERENCE_REQUEST,
  type SelectionCandidate,
} from "@orchestrator-ts/core";
import { languageMatches } from "./requirements";

// Which registered models a request may go to, and in words why the others may not.

/**
 * A registered model plus the per-selection scratch fields the selector reads (reused, never
 * reallocated): the candidate the selector sees, and the exclusion the explanation reports.
 */
export class Entry implements SelectionCandidate {
  readonly model: Model;
  order: number;
  estimatedCostUsd = 0;
  stats: Readonly<ArmStats> | undefined;
  statsScope: string | undefined;
  overall: Readonly<ArmStats> | undefined;
  // Exclusion of the current selection: a code, plus a detail string that already exists (no formatting on the hot path).
  code: string | undefined;
  detail: string | undefined;
  /** The health tracker's last answer for this model. */
  healthStatus: HealthState = "unknown";
  /** The status last reported in a `health` event. */
  lastHealth: HealthState | undefined;
  /** Calls of `generate`/`stream` running on this model now: selections whose outcome is not recorded yet. */
  pending = 0;
  constructor(model: Model, order: number) {
    this.model = model;
    this.order = order;
  }
}

function exclude(e: Entry, code: string): false {
  e.code = code;
  return false;
}

/**
 * The static checks of one model against requirements: capabilities, providers, locality,
 * context window, tasks, languages, estimated cost, observed speed and latency. Sets
 * `entry.estimatedCostUsd`, and `entry.code`/`entry.detail` when it fails one.
 *
 * `promptTokens` is the request's estimated prompt size, counted once for all models;
 * `minWindowAbove` (> 0 after a `ContextLengthError`) asks for a larger window than that.
 */
export function meetsRequirements(
  e: Entry,
  req: NormalizedRequirements,
  promptTokens: number,
  request: GenerateRequest | undefined,
  skip: ReadonlySet<string> | undefined,
  minWindowAbove: number,
): boolean {
  const model = e.model;
  const caps = model.capabilities;
  e.code = undefined;
  e.detail = undefined;
  if (skip?.has(model.name)) return exclude(e, "already_tried");
  if (req.capabilities) {
    for (const name of req.capabilities) {
      if (caps[name as CapabilityName] !== true) {
        e.detail = name;
        return exclude(e, "capability");
      }
    }
  }
  if (req.models && !req.models.includes(model.name)) return exclude(e, "model_not_allowed");
  if (req.providers && !req.providers.includes(model.provider)) return exclude(e, "provider");
  if (req.excludeProviders?.includes(model.provider)) return exclude(e, "provider_excluded");
  if (req.localOnly && !model.isLocal) return exclude(e, "not_local");
  if (req.minContextWindow !== undefined && caps.contextWindow < req.minContextWindow)
    return exclude(e, "context_window");
  if (minWindowAbove > 0 && caps.contextWindow <= minWindowAbove) return exclude(e, "context_window_fallback");
  if (req.tasks) {
    for (const task of req.tasks) {
      if (!caps.tasks.includes(task)) {
        e.detail = task;
        return exclude(e, "task");
      }
    }
  }
  if (req.languages) {
    for (const lang of req.languages) {
      if (!caps.languages.some((d) => languageMatches(d, lang))) {
        e.detail = lang;
        return exclude(e, "language");
      }
    }
  }
  // Priced from one token estimate for all models (estimateCost would re-count the prompt per model).
  const pin = caps.inputCostPerToken;
  const pout = caps.outputCostPerToken;
  if (pin === 0 && pout === 0) e.estimatedCostUsd = 0;
  else {
    const output = request
      ? (request.maxTokens ?? Math.min(REFERENCE_OUTPUT_TOKENS, caps.maxOutputTokens ?? REFERENCE_OUTPUT_TOKENS))
      : REFERENCE_REQUEST.outputTokens;
    e.estimatedCostUsd = promptTokens * pin + output * pout;
  }
  if (req.maxCost !== undefined && e.estimatedCostUsd > req.maxCost) return exclude(e, "cost");
  if (req.minSpeed !== undefined) {
    const tps = model.metrics.tokensPerSecond ?? caps.tokensPerSecond;
    if (tps !== undefined && tps < req.minSpeed) return exclude(e, "speed");
  }
  if (req.maxLatencyMs !== undefined) {
    const p95 = model.metrics.latencyP95Ms;
    if (p95 !== undefined && p95 > req.maxLatencyMs) return exclude(e, "latency");
  }
  return true;
}

/** Mark an entry excluded by something other than the requirements (the selector, health, limits). */
export function excludeFor(e: Entry, code: "selector" | "unhealthy" | "saturated", detail?: string): void {
  e.code = code;
  if (detail !== undefined) e.detail = detail;
}

function usd(value: number): string {
  return `$${value < 0.01 ? value.toPrecision(3) : value.toFixed(4)}`;
}

/** Why an entry was left out, in words. Formatted only when someone reads it (an explanation, an error). */
export function describeExclusion(e: Entry, req: NormalizedRequirements, selectorName: string): string {
  const m = e.model;
  const caps = m.capabilities;
  switch (e.code) {
    case "already_tried":
      return "already failed in this call";
    case "capability":
      return `lacks capability "${e.detail}"`;
    case "provider":
      return `provider "${m.provider}" is not one of ${(req.providers ?? []).join(", ")}`;
    case "model_not_allowed":
      return `is not one of the models allowed here (${(req.models ?? []).join(", ")})`;
    case "provider_excluded":
      return `provider "${m.provider}" is excluded`;
    case "not_local":
      return "is not a local model (localOnly)";
    case "context_window":
      return `context window ${caps.contextWindow} tokens is below minContextWindow ${req.minContextWindow}`;
    case "context_window_fallback":
      return `context window ${caps.contextWindow} tokens is not larger than the window that was too small`;
    case "task":
      return `does not declare task "${e.detail}"`;
    case "language":
      return `does not declare language "${e.detail}"`;
    case "cost":
      return `estimated cost ${usd(e.estimatedCostUsd)} exceeds maxCost ${usd(req.maxCost ?? 0)}`;
    case "speed": {
      const observed = m.metrics.tokensPerSecond;
      const tps = observed ?? caps.tokensPerSecond ?? 0;
      return `${observed === undefined ? "declared" : "observed median"} speed ${tps.toFixed(1)} tokens/s is below minSpeed ${req.minSpeed}`;
    }
    case "latency":
      return `observed p95 latency ${Math.round(m.metrics.latencyP95Ms ?? 0)} ms exceeds maxLatencyMs ${req.maxLatencyMs}`;
    case "selector":
      return `${selectorName} selector: ${e.detail}`;
    case "unhealthy":
      return `unavailable (${e.healthStatus})${e.detail ? `: ${e.detail}` : ""}`;
    case "saturated": {
      const c = m.constraints;
      const limits = [
        c.maxConcurrentRequests !== undefined ? `${c.maxConcurrentRequests} concurrent` : "",
        c.maxRequestsPerMinute !== undefined ? `${c.maxRequestsPerMinute}/min` : "",
      ]
        .filter(Boolean)
        .join(", ");
      return `at its request limits${limits ? ` (${limits})` : ""}`;
    }
    default:
      return e.code ?? "excluded";
  }
}

/** Every excluded entry's reason, in registration order. */
export function exclusionReasons(
  entries: readonly Entry[],
  req: NormalizedRequirements,
  selectorName: string,
): ExclusionReason[] {
  const out: ExclusionReason[] = [];
  for (const e of entries)
    if (e.code !== undefined)
      out.push({ model: e.model.name, code: e.code, reason: describeExclusion(e, req, selectorName) });
  return out;
}
