// The orchestrator as a Vercel AI SDK provider: `orchestrator("auto")` is a LanguageModelV3 whose
// calls go through registry.generate / registry.stream (selection, retries, fallbacks, stream
// failover before the first chunk, limits, cache, health, statistics).
import {
  AbortError,
  type CapabilityName,
  type GenerateRequest,
  type GenerateResult,
  type RequirementFields,
  type StreamChunk,
  type ToolCall,
  closestNames,
  inAnswerOrder,
} from "@orchestrator-ts/core";
import {
  type LanguageModelV3,
  type LanguageModelV3CallOptions,
  type LanguageModelV3Content,
  type LanguageModelV3GenerateResult,
  type LanguageModelV3StreamPart,
  type LanguageModelV3StreamResult,
  NoSuchModelError,
  type ProviderV3,
  type SharedV3Warning,
} from "@ai-sdk/provider";
import { fromCallOptions } from "./from-call-options";
import { fromFinishReason, fromUsage, metadata } from "./normalize";
import { StreamPartWriter, reasoningContent } from "./reasoning";
import { callError, toAISDKError } from "./to-ai-sdk-error";

/** One try within a registry call, as `providerMetadata.orchestrator.attempts` reports it. */
export interface OrchestratorAttempt {
  model: string;
  success: boolean;
  errorCode?: string;
}

/**
 * Selection requirements, as the registry (`@orchestrator-ts/registry`) takes them: the contract's
 * `RequirementFields`. The registry validates them (an unknown key is an error there, not silently ignored).
 */
export type OrchestratorRequirements = RequirementFields;

/** The request the registry takes: a `GenerateRequest`, and `route` — `"auto"`, a route's or a model's name. */
export type OrchestratorRequest = GenerateRequest & { route?: string };

/**
 * What the provider needs of a registry: `ModelRegistry` from `@orchestrator-ts/registry`. Named
 * by shape, so this package depends on the contract (core) only.
 */
export interface OrchestratorRegistry {
  generate(
    request: OrchestratorRequest,
    requirements?: OrchestratorRequirements,
  ): Promise<GenerateResult & { selectionId: string; attempts: readonly OrchestratorAttempt[] }>;
  stream(
    request: OrchestratorRequest,
    requirements?: OrchestratorRequirements,
  ): AsyncIterable<StreamChunk> & {
    readonly selectionId: string | undefined;
    readonly explanation:
      | { readonly model?: { readonly name: string; readonly provider: string } | undefined }
      | undefined;
    readonly attempts: readonly OrchestratorAttempt[];
    /** The answering model's warnings, known by the first chunk (a registry before them has none). */
    readonly warnings?: readonly string[];
  };
  hasModel(name: string): boolean;
  listModels(): readonly { readonly name: string }[];
  /** What an id stands for (`"auto"`, a route, a model); throws a `route_not_found` error for anything else. */
  resolveRoute(id: string): unknown;
  listRoutes(): readonly { readonly name: string }[];
  recordFeedback(selectionId: string, feedback: { quality: number }): boolean;
}

/**
 * Routing hints for the calls of one model id: given at `orchestrator(id, settings)` and, per
 * call, as `providerOptions.orchestrator` (which wins, key by key). Every selection requirement of
 * the registry (`maxCost`, `capabilities`, `providers`, `localOnly`…) plus the request's `task`,
 * `timeoutMs` and `cache`.
 */
export interface OrchestratorModelSettings extends OrchestratorRequirements {
  /** Task tag: selection and statistics are kept per task. */
  task?: string;
  /** Deadline of the whole call (retries and fallbacks included). */
  timeoutMs?: number;
  /** `false` bypasses the cache; `"refresh"` calls a model and overwrites the entry. */
  cache?: boolean | "refresh";
}

/**
 * What a model id means to the registry: requirements for the selection and fields added to the
 * request. `"auto"` is `{}`; a route's or a registered model's name is `{ request: { route: name } }`
 * (the registry's `resolveRoute` reads it: a selector route, a cascade, or the model with its fallbacks).
 */
export interface ModelTarget {
  requirements?: OrchestratorRequirements;
  request?: Partial<Omit<OrchestratorRequest, "messages">>;
}

/**
 * Resolves ids the provider does not know itself (routes, aliases); `undefined` passes the id on
 * to the built-in resolution (`"auto"`, then a registered model's name).
 */
export type ModelIdResolver = (id: string, registry: OrchestratorRegistry) => ModelTarget | undefined;

interface ProviderBaseOptions {
  /** Consulted first for every id: the place where named routes plug in. */
  resolveModelId?: ModelIdResolver;
}

export type OrchestratorProviderOptions = ProviderBaseOptions &
  (
    | { registry: OrchestratorRegistry }
    /**
     * An `Orchestrator` from `orchestrator-ts` (`createOrchestrator({ config: "models.yaml" })`),
     * or the promise of one: the way to start from a config file.
     */
    | { orchestrator: { registry: OrchestratorRegistry } | PromiseLike<{ registry: OrchestratorRegistry }> }
  );

/** The provider: call it with a model id (`"auto"` or a registered model's name). */
export interface OrchestratorProvider extends ProviderV3 {
  (modelId: string, settings?: OrchestratorModelSettings): LanguageModelV3;
  languageModel(modelId: string, settings?: OrchestratorModelSettings): LanguageModelV3;
  /** The registry the calls go through (once an `{ orchestrator }` promise resolves). */
  registry(): Promise<OrchestratorRegistry>;
  /** Rate an answer: `providerMetadata.orchestrator.selectionId` of a result, and a quality in [0, 1]. */
  recordFeedback(selectionId: string, feedback: { quality: number }): Promise<boolean>;
}

/** The id that lets the registry's selector choose among every model. */
export const AUTO_MODEL_ID = "auto";

const REQUEST_KEYS = new Set(["task", "timeoutMs", "cache"]);
const NO_URLS: Record<string, RegExp[]> = Object.freeze({}) as Record<string, RegExp[]>;

/** Where the registry comes from: at once, or once a promise resolves (then kept). */
class RegistrySource {
  current: OrchestratorRegistry | undefined;
  #pending: Promise<OrchestratorRegistry> | undefined;
  constructor(options: OrchestratorProviderOptions) {
    if (options && "registry" in options && options.registry) {
      this.current = options.registry;
    } else if (options && "orchestrator" in options && options.orchestrator) {
      const o = options.orchestrator;
      if ("registry" in o && o.registry) this.current = o.registry;
      else {
        this.#pending = Promise.resolve(o as PromiseLike<{ registry: OrchestratorRegistry }>).then((x) => x.registry);
        this.#pending.then(
          (r) => {
            this.current = r;
          },
          // The failure reaches every call that awaits it; this handler only keeps it from being unhandled.
          () => undefined,
        );
      }
    } else {
      throw new TypeError(
        "createOrchestratorProvider needs { registry } or { orchestrator } (for a config file: createOrchestratorProvider({ config }) from orchestrator-ts).",
      );
    }
  }
  get(): OrchestratorRegistry | Promise<OrchestratorRegistry> {
    return this.current ?? (this.#pending as Promise<OrchestratorRegistry>);
  }
}

/**
 * The orchestrator as an AI SDK provider:
 * `generateText({ model: createOrchestratorProvider({ registry })("auto"), prompt })`.
 */
export function createOrchestratorProvider(options: OrchestratorProviderOptions): OrchestratorProvider {
  const source = new RegistrySource(options);
  const resolver = options.resolveModelId;
  const languageModel = (modelId: string, settings?: OrchestratorModelSettings): LanguageModelV3 => {
    if (typeof modelId !== "string" || modelId === "")
      throw new NoSuchModelError({
        modelId: String(modelId),
        modelType: "languageModel",
        message: 'A model id is a non-empty string: "auto" or a registered model\'s name.',
      });
    // With the registry at hand, an unknown id fails here, where the id is written.
    if (source.current) resolveTarget(modelId, source.current, resolver);
    return new OrchestratorLanguageModel(modelId, settings, source, resolver);
  };
  const provider = ((modelId: string, settings?: OrchestratorModelSettings) => {
    if (new.target) throw new TypeError("The orchestrator provider is a function: call orchestrator(id), without new.");
    return languageModel(modelId, settings);
  }) as OrchestratorProvider;
  Object.assign(provider, {
    specificationVersion: "v3",
    languageModel,
    embeddingModel(modelId: string): never {
      throw new NoSuchModelError({
        modelId,
        modelType: "embeddingModel",
        message: "The orchestrator routes language models only.",
      });
    },
    imageModel(modelId: string): never {
      throw new NoSuchModelError({
        modelId,
        modelType: "imageModel",
        message: "The orchestrator routes language models only.",
      });
    },
    registry: async () => source.get(),
    recordFeedback: async (selectionId: string, feedback: { quality: number }) =>
      (await source.get()).recordFeedback(selectionId, feedback),
  });
  return provider;
}

/** What an id means now: the resolver's answer, `"auto"`, or a registered model; else NoSuchModelError. */
function resolveTarget(
  modelId: string,
  registry: OrchestratorRegistry,
  resolver: ModelIdResolver | undefined,
): ModelTarget {
  const custom = resolver?.(modelId, registry);
  if (custom !== undefined) return custom;
  if (modelId === AUTO_MODEL_ID) return {};
  try {
    // A route's name, or a registered model's (pinned, with its configured fallbacks): the registry reads `route`.
    registry.resolveRoute(modelId);
    return { request: { route: modelId } };
  } catch (error) {
    if ((error as { code?: unknown } | null)?.code !== "route_not_found") throw error;
  }
  const names = [...registry.listRoutes().map((r) => r.name), ...registry.listModels().map((m) => m.name)];
  const close = closestNames(modelId, names);
  throw new NoSuchModelError({
    modelId,
    modelType: "languageModel",
    message:
      `No model "${modelId}" in the orchestrator's registry: use "auto" (the selector chooses), a route's name or a registered model's name` +
      (close.length > 0
        ? ` (did you mean ${close.map((n) => `"${n}"`).join(" or ")}?)`
        : names.length > 0
          ? ` (${names.map((n) => `"${n}"`).join(", ")})`
          : " (the registry is empty)") +
      ".",
  });
}

interface PreparedCall {
  request: OrchestratorRequest;
  requirements: OrchestratorRequirements | undefined;
  warnings: SharedV3Warning[];
}

class OrchestratorLanguageModel implements LanguageModelV3 {
  readonly specificationVersion = "v3" as const;
  readonly provider = "orchestrator";
  readonly modelId: string;
  // No URL is passed through: the AI SDK downloads images, so every model (local ones too) gets bytes.
  readonly supportedUrls = NO_URLS;
  readonly #settings: OrchestratorModelSettings | undefined;
  readonly #source: RegistrySource;
  readonly #resolver: ModelIdResolver | undefined;

  constructor(
    modelId: string,
    settings: OrchestratorModelSettings | undefined,
    source: RegistrySource,
    resolver: ModelIdResolver | undefined,
  ) {
    this.modelId = modelId;
    this.#settings = settings;
    this.#source = source;
    this.#resolver = resolver;
  }

  async doGenerate(options: LanguageModelV3CallOptions): Promise<LanguageModelV3GenerateResult> {
    const registry = this.#source.current ?? (await this.#source.get());
    const call = this.#prepare(options, registry);
    let result: Awaited<ReturnType<OrchestratorRegistry["generate"]>>;
    try {
      result = await registry.generate(call.request, call.requirements);
    } catch (error) {
      throw callError(error, options.abortSignal, this.modelId);
    }
    // Reasoning as it came: first, or after the tool calls it followed (interleaved thinking), with
    // signatures in providerMetadata.anthropic, so the AI SDK gives them back where they were.
    const parts = result.reasoning ?? [];
    const content = inAnswerOrder<LanguageModelV3Content>(
      parts,
      reasoningContent(parts),
      result.text !== "" ? [{ type: "text", text: result.text }] : [],
      result.toolCalls.map((toolCall) => ({
        type: "tool-call",
        toolCallId: toolCall.id,
        toolName: toolCall.name,
        input: toolInput(toolCall),
      })),
    );
    for (const warning of result.warnings) call.warnings.push({ type: "other", message: warning });
    return {
      content,
      finishReason: fromFinishReason(result.finishReason),
      usage: fromUsage(result.usage),
      providerMetadata: {
        orchestrator: metadata(
          result.model,
          result.provider,
          result.selectionId,
          result.costUsd,
          result.cached,
          result.latencyMs,
          result.attempts,
        ),
      },
      // Given here, the AI SDK does not make its own id and date (measured: a third of its added cost).
      response: { id: result.selectionId, modelId: result.model, timestamp: new Date() },
      warnings: call.warnings,
    };
  }

  async doStream(options: LanguageModelV3CallOptions): Promise<LanguageModelV3StreamResult> {
    const registry = this.#source.current ?? (await this.#source.get());
    const call = this.#prepare(options, registry);
    // Tool calls' input streams as the model writes it (tool-input-start/-delta/-end), from the providers that stream it.
    call.request.toolInputDeltas = true;
    const stream = registry.stream(call.request, call.requirements);
    const iterator = stream[Symbol.asyncIterator]();
    // The first chunk before the stream is handed over: a call that fails before it (after every
    // retry and fallback) rejects doStream, as a provider's failed HTTP request does.
    let first: IteratorResult<StreamChunk>;
    try {
      first = await iterator.next();
    } catch (error) {
      throw callError(error, options.abortSignal, this.modelId);
    }
    // The model's warnings about its request are known by its first chunk: they go in stream-start, as doGenerate's.
    const modelWarnings = stream.warnings;
    if (modelWarnings !== undefined)
      for (const warning of modelWarnings) call.warnings.push({ type: "other", message: warning });
    const modelId = this.modelId;
    let pending: IteratorResult<StreamChunk> | undefined = first;
    let parts: StreamPartWriter;
    let done = false;
    // Tool calls whose input is streaming (a tool-input-start went out): their tool-call is preceded by tool-input-end.
    let started: Set<string> | undefined;
    const out = new ReadableStream<LanguageModelV3StreamPart>({
      start(controller) {
        parts = new StreamPartWriter((part) => controller.enqueue(part));
        controller.enqueue({ type: "stream-start", warnings: call.warnings });
      },
      async pull(controller) {
        let next: IteratorResult<StreamChunk>;
        if (pending !== undefined) {
          next = pending;
          pending = undefined;
        } else {
          try {
            next = await iterator.next();
          } catch (error) {
            done = true;
            const mapped = callError(error, options.abortSignal, modelId);
            if (AbortError.isInstance(error) || (mapped instanceof Error && mapped.name === "AbortError")) {
              controller.error(mapped);
              return;
            }
            // Chunks already reached the caller: the failure is an error part, then an `error` finish.
            parts.end();
            controller.enqueue({ type: "error", error: mapped });
            controller.enqueue({
              type: "finish",
              finishReason: { unified: "error", raw: undefined },
              usage: fromUsage(undefined),
            });
            controller.close();
            return;
          }
        }
        if (next.done) {
          done = true;
          controller.close();
          return;
        }
        const chunk = next.value;
        switch (chunk.type) {
          case "text":
            parts.text(chunk.text);
            return;
          case "reasoning":
            parts.reasoning(chunk);
            return;
          case "tool-input-start":
            parts.endReasoning();
            (started ??= new Set()).add(chunk.id);
            controller.enqueue({ type: "tool-input-start", id: chunk.id, toolName: chunk.name });
            return;
          case "tool-input-delta":
            if (started?.has(chunk.id))
              controller.enqueue({ type: "tool-input-delta", id: chunk.id, delta: chunk.delta });
            return;
          case "tool-call":
            parts.endReasoning();
            if (started?.delete(chunk.toolCall.id))
              controller.enqueue({ type: "tool-input-end", id: chunk.toolCall.id });
            controller.enqueue({
              type: "tool-call",
              toolCallId: chunk.toolCall.id,
              toolName: chunk.toolCall.name,
              input: toolInput(chunk.toolCall),
            });
            return;
          case "finish": {
            parts.end();
            const model = chunk.model ?? stream.explanation?.model?.name;
            // The registry's finish chunk names its selection.
            const selectionId = (chunk as { selectionId?: string }).selectionId ?? stream.selectionId;
            controller.enqueue({
              type: "response-metadata",
              ...(selectionId !== undefined ? { id: selectionId } : {}),
              ...(model !== undefined ? { modelId: model } : {}),
              timestamp: new Date(),
            });
            const provider = stream.explanation?.model?.provider;
            controller.enqueue({
              type: "finish",
              finishReason: fromFinishReason(chunk.finishReason),
              usage: fromUsage(chunk.usage),
              providerMetadata: {
                orchestrator: metadata(
                  model,
                  provider,
                  selectionId,
                  chunk.costUsd,
                  chunk.cached,
                  chunk.latencyMs,
                  stream.attempts,
                ),
              },
            });
            return;
          }
        }
      },
      cancel() {
        // The caller stopped reading: end the model's stream, which releases its connection.
        if (!done) return iterator.return?.().then(() => undefined);
      },
    });
    return { stream: out };
  }

  /** The request and requirements of one call: the id's target, the settings, the call's hints, and what the prompt needs. */
  #prepare(options: LanguageModelV3CallOptions, registry: OrchestratorRegistry): PreparedCall {
    let target: ModelTarget;
    try {
      target = resolveTarget(this.modelId, registry, this.#resolver);
    } catch (error) {
      // Not an AI SDK error yet (a resolver's own failure): as the AI SDK expects.
      throw NoSuchModelError.isInstance(error) ? error : toAISDKError(error, this.modelId);
    }
    const { request, needs: inferred, warnings, hints } = fromCallOptions(options);
    // A model pinned by name answers as `registry.generate({ route: name })` would: what the call
    // implies (tools, an object) does not filter it out for capabilities it was never declared to
    // have (an AI SDK model registered with prices only); hints given explicitly still apply.
    const route = target.request?.route;
    const needs = typeof route === "string" && registry.hasModel(route) ? [] : inferred;
    const settings = this.#settings;
    let requirements: OrchestratorRequirements | undefined = target.requirements;
    if (settings !== undefined || hints !== undefined || needs.length > 0) {
      const merged: Record<string, unknown> = { ...target.requirements };
      const requestFields: Record<string, unknown> = {};
      for (const given of [settings, hints]) {
        if (given === undefined) continue;
        for (const key in given) {
          const value = (given as Record<string, unknown>)[key];
          if (value === undefined) continue;
          if (REQUEST_KEYS.has(key)) requestFields[key] = value;
          // Capabilities add up: a hint narrows what the id's requirements (an alias's) ask for, never drops them.
          else if (key === "capabilities" && Array.isArray(merged.capabilities) && Array.isArray(value))
            merged.capabilities = [
              ...new Set([...(merged.capabilities as CapabilityName[]), ...(value as CapabilityName[])]),
            ];
          // The id decides the model: a hint cannot move a pinned call elsewhere.
          else merged[key] = value;
        }
      }
      if (needs.length > 0) {
        const given = merged.capabilities;
        merged.capabilities = Array.isArray(given) ? [...new Set([...(given as CapabilityName[]), ...needs])] : needs;
      }
      Object.assign(request, requestFields);
      requirements = merged as OrchestratorRequirements;
    }
    if (target.request !== undefined) Object.assign(request, target.request);
    return { request, requirements, warnings };
  }
}

/** A tool call's input as the AI SDK takes it: JSON text (the raw string when the model sent invalid JSON). */
function toolInput(call: ToolCall): string {
  return typeof call.arguments === "string" ? call.arguments : JSON.stringify(call.arguments ?? {});
}
