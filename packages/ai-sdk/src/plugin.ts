import { createRequire } from "node:module";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import {
  ConfigError,
  Secret,
  defineProvider,
  endpointIdentity,
  headersIdentity,
  registerSecretHeaders,
  revealHeaders,
} from "@orchestrator-ts/core";
import { isLoopbackURL, isModuleNotFound } from "@orchestrator-ts/core/internal";
import { z } from "zod";
import { AISDKModel } from "./ai-sdk-model";
import { type AISDKLanguageModel, isAISDKLanguageModel } from "./spec";

// `${VAR}` of an unset variable expands to "": treat it as not given, so the provider's own env fallback applies.
const optionalText = z
  .string()
  .optional()
  .transform((v) => (v === "" ? undefined : v));

const secret = z.custom<Secret>((v) => Secret.isSecret(v), "expected a string or a Secret");
// An npm package name (`@ai-sdk/google`, `ollama-ai-provider-v2`), never a path: config names what
// is installed, it does not point at files (a `provider:` file plugin does that).
const PACKAGE_NAME = /^(?:@[a-z0-9][a-z0-9._~-]*\/)?[a-z0-9][a-z0-9._~-]*$/;
const IDENTIFIER = /^[A-Za-z_$][A-Za-z0-9_$]*$/;

export const aiSdkConfigSchema = z
  .object({
    /** The AI SDK provider package: `@ai-sdk/google`, `@ai-sdk/mistral`… */
    package: z.string().regex(PACKAGE_NAME, "must be the name of an installed npm package, e.g. @ai-sdk/google"),
    /** The model id the provider takes: `gemini-2.5-flash`. */
    model: z.string().min(1, "must name the provider's model id, e.g. gemini-2.5-flash"),
    /** The package's provider factory; default: its one `create…` export (`createGoogleGenerativeAI`). */
    factory: z.string().regex(IDENTIFIER, "must be the name of a function the package exports").optional(),
    /** The provider's method that makes the model (`chat` for OpenAI chat completions); default `languageModel`. */
    method: z.string().regex(IDENTIFIER, "must be the name of a method of the provider, e.g. chat").optional(),
    apiKey: z.union([z.string(), secret]).optional(),
    baseURL: optionalText,
    /** `base_url` arrives as `baseURL`; `baseUrl` is accepted too. */
    baseUrl: optionalText,
    headers: z.record(z.string(), z.union([z.string(), secret])).optional(),
    /** More settings for the factory, as the package names them (`region`, `resourceName`…). */
    settings: z.record(z.string(), z.unknown()).optional(),
    /** Provider options sent with every call, by provider: `{ google: { … } }`. */
    providerOptions: z.record(z.string(), z.record(z.string(), z.unknown())).optional(),
    timeoutMs: z.number().positive().optional(),
    /** The provider label in results and metrics; default the AI SDK's. */
    provider: optionalText,
    /** Default: true when `base_url` is a loopback address. */
    isLocal: z.boolean().optional(),
  })
  .strict()
  .transform(({ baseUrl, baseURL, apiKey, ...rest }) => ({
    ...rest,
    ...(baseURL || baseUrl ? { baseURL: baseURL ?? baseUrl } : {}),
    ...(apiKey !== undefined && apiKey !== "" ? { apiKey: Secret.from(apiKey) } : {}),
  }));

export type AISDKProviderConfig = z.output<typeof aiSdkConfigSchema>;

/**
 * The `provider: ai-sdk` plugin for YAML config: imports the named AI SDK provider package, calls
 * its factory with the key, base URL, headers and settings, and wraps the model in `AISDKModel`.
 */
export const aiSdkProvider = defineProvider<AISDKProviderConfig>({
  name: "ai-sdk",
  configSchema: aiSdkConfigSchema,
  secretKeys: ["apiKey", "secretAccessKey", "sessionToken"],
  // The configured AI SDK provider package: one that is not installed is reported at start-up.
  loadDependencies: (config) => importPackage(config.package),
  create: async ({ name, config, capabilities, constraints, capabilitiesDeclared }) => {
    const model = await loadLanguageModel(config);
    return new AISDKModel({
      name,
      model,
      constraints,
      ...(capabilitiesDeclared ? { capabilities } : {}),
      ...(config.timeoutMs !== undefined ? { timeoutMs: config.timeoutMs } : {}),
      ...(config.provider !== undefined ? { provider: config.provider } : {}),
      ...(config.providerOptions !== undefined
        ? { providerOptions: config.providerOptions as AISDKModelProviderOptions }
        : {}),
      isLocal: config.isLocal ?? (config.baseURL !== undefined && isLoopbackURL(config.baseURL)),
      // Who answers: the package, the endpoint and the settings (credentials are left out by core).
      cacheIdentity: {
        package: config.package,
        baseURL: endpointIdentity(config.baseURL),
        headers: headersIdentity(config.headers),
        settings: config.settings,
      },
    });
  },
});

type AISDKModelProviderOptions = NonNullable<ConstructorParameters<typeof AISDKModel>[0]["providerOptions"]>;

type Factory = (settings: Record<string, unknown>) => unknown;

/** Import the configured package, make its provider and the model. Errors say what to change in the config. */
export async function loadLanguageModel(config: AISDKProviderConfig): Promise<AISDKLanguageModel> {
  const mod = await importPackage(config.package);
  const factory = findFactory(mod, config);
  const settings: Record<string, unknown> = reveal(config.settings ?? {}) as Record<string, unknown>;
  if (config.apiKey !== undefined) settings.apiKey = config.apiKey.reveal();
  if (config.baseURL !== undefined) settings.baseURL = config.baseURL;
  if (config.headers !== undefined) {
    const headers = revealHeaders(config.headers);
    // A key in a header (`api-key`, `x-goog-api-key`) is a secret too: a server may echo it.
    registerSecretHeaders(headers);
    settings.headers = headers;
  }
  const provider =
    typeof factory === "function" && !isProviderInstance(factory) ? (factory as Factory)(settings) : factory;
  const method = config.method;
  let model: unknown;
  if (method !== undefined) {
    const make = (provider as Record<string, unknown>)[method];
    if (typeof make !== "function") {
      throw configError(
        "method",
        `the provider of ${config.package} has no method "${method}"${methodsHint(provider)}`,
      );
    }
    model = (make as (id: string) => unknown).call(provider, config.model);
  } else if (typeof (provider as { languageModel?: unknown }).languageModel === "function") {
    model = (provider as { languageModel: (id: string) => unknown }).languageModel(config.model);
  } else if (typeof provider === "function") {
    model = (provider as (id: string) => unknown)(config.model);
  } else {
    throw configError("factory", `${config.package}'s factory did not return an AI SDK provider`);
  }
  if (!isAISDKLanguageModel(model)) {
    const version = (model as { specificationVersion?: unknown } | undefined)?.specificationVersion;
    throw configError(
      "package",
      `${config.package} made ${version === undefined ? "something that is not a language model" : `a language model of specification ${String(version)}`}; AISDKModel takes specification v2 and v3 (AI SDK providers 2.x and 3.x)`,
    );
  }
  return model;
}

function configError(key: string, message: string): ConfigError {
  return new ConfigError([{ path: `config.${key}`, message }], { title: "Invalid ai-sdk model" });
}

// A provider instance (`openai`) is callable too, but makes models, not providers.
function isProviderInstance(value: unknown): boolean {
  return typeof (value as { languageModel?: unknown }).languageModel === "function";
}

function methodsHint(provider: unknown): string {
  if (provider === null || (typeof provider !== "object" && typeof provider !== "function")) return "";
  const names = Object.keys(provider as object).filter(
    (k) => typeof (provider as Record<string, unknown>)[k] === "function",
  );
  return names.length > 0 ? ` (it has ${names.slice(0, 8).join(", ")})` : "";
}

async function importPackage(name: string): Promise<Record<string, unknown>> {
  try {
    return (await import(name)) as Record<string, unknown>;
  } catch (error) {
    if (!isModuleNotFound(error)) throw configError("package", `${name} failed to load: ${(error as Error).message}`);
  }
  // Installed beside the application but not where this package can see it (pnpm, a global CLI).
  let file: string;
  try {
    file = createRequire(join(process.cwd(), "package.json")).resolve(name);
  } catch {
    throw configError("package", `${name} is not installed: npm install ${name}`);
  }
  return (await import(pathToFileURL(file).href)) as Record<string, unknown>;
}

/** The package's provider factory: the one named in config, else its one `create…` export, else its default instance. */
function findFactory(mod: Record<string, unknown>, config: AISDKProviderConfig): unknown {
  const exports = mod;
  if (config.factory !== undefined) {
    const named = exports[config.factory];
    if (typeof named !== "function")
      throw configError("factory", `${config.package} exports no function "${config.factory}"${creatorsHint(exports)}`);
    return named;
  }
  const creators = Object.keys(exports).filter((k) => /^create[A-Z]/.test(k) && typeof exports[k] === "function");
  if (creators.length === 1) return exports[creators[0] as string];
  if (creators.length > 1) {
    // `@ai-sdk/google` → createGoogleGenerativeAI: the creator named after the package.
    const token = (config.package.split("/").pop() ?? "").replace(/[^a-z0-9]/gi, "").toLowerCase();
    const matching = creators.filter((k) => k.slice(6).toLowerCase().startsWith(token));
    if (matching.length === 1) return exports[matching[0] as string];
    throw configError(
      "factory",
      `${config.package} exports several provider factories (${creators.join(", ")}); name one with factory:`,
    );
  }
  // No factory: a default instance (it reads its key from the environment itself).
  const instances = Object.values(exports).filter(isProviderInstance);
  if (
    instances.length === 1 &&
    config.apiKey === undefined &&
    config.baseURL === undefined &&
    config.headers === undefined &&
    config.settings === undefined
  )
    return instances[0];
  throw configError(
    "package",
    `${config.package} exports no AI SDK provider factory (a create… function)${creatorsHint(exports)}`,
  );
}

function creatorsHint(exports: Record<string, unknown>): string {
  const functions = Object.keys(exports).filter((k) => typeof exports[k] === "function");
  return functions.length > 0 ? `; its functions: ${functions.slice(0, 10).join(", ")}` : "";
}

/** A copy with every `Secret` (YAML values of secret-named keys, at any depth) revealed for the factory. */
function reveal(value: unknown): unknown {
  if (Secret.isSecret(value)) return value.reveal();
  if (Array.isArray(value)) return value.map(reveal);
  if (value !== null && typeof value === "object" && Object.getPrototypeOf(value) === Object.prototype) {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value))
      Object.defineProperty(out, k, { value: reveal(v), enumerable: true, writable: true, configurable: true });
    return out;
  }
  return value;
}
