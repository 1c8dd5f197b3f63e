import { existsSync, readFileSync, statSync } from "node:fs";
import { basename, dirname, isAbsolute, join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import {
  type AnyProviderPlugin,
  type BuildModelsOptions,
  ConfigError,
  type ConfigIssue,
  isProviderPlugin,
  type ModelConfig,
  type ProvidersInput,
  SpecificationVersionError,
} from "@orchestrator-ts/core";
import { specificationMismatch } from "@orchestrator-ts/core/internal";
import { issueAt, suggest } from "./issues";
import { entryMeta } from "./meta";

/** Plugins by the name used in `provider:`. */
export function providerMap(input: ProvidersInput | undefined): Map<string, AnyProviderPlugin> {
  const map = new Map<string, AnyProviderPlugin>();
  if (!input) return map;
  if (Array.isArray(input)) for (const plugin of input as readonly AnyProviderPlugin[]) map.set(plugin.name, plugin);
  else for (const [name, plugin] of Object.entries(input as Record<string, AnyProviderPlugin>)) map.set(name, plugin);
  return map;
}

/** `@scope/name`, `name/sub`, `./file.mjs`, `/abs/file.mjs`: loaded by import, never looked up by name. */
/** Short names of the providers this project publishes, and the package each lives in. */
const BUILT_IN: Readonly<Record<string, string>> = {
  openai: "@orchestrator-ts/provider-openai",
  anthropic: "@orchestrator-ts/provider-anthropic",
  huggingface: "@orchestrator-ts/provider-huggingface",
  hf: "@orchestrator-ts/provider-huggingface",
  ollama: "@orchestrator-ts/provider-ollama",
  "llama-cpp": "@orchestrator-ts/provider-llama-cpp",
  llamacpp: "@orchestrator-ts/provider-llama-cpp",
  "llama.cpp": "@orchestrator-ts/provider-llama-cpp",
  "ai-sdk": "@orchestrator-ts/ai-sdk",
};

/** The package behind a built-in short name (`openai` → `@orchestrator-ts/provider-openai`), if it is one. */
export function builtInPackage(provider: string): string | undefined {
  return Object.hasOwn(BUILT_IN, provider) ? BUILT_IN[provider] : undefined;
}

export const BUILT_IN_NAMES: readonly string[] = [
  "openai",
  "anthropic",
  "huggingface",
  "ollama",
  "llama-cpp",
  "ai-sdk",
];

export function isModuleSpecifier(provider: string): boolean {
  return provider.startsWith("@") || provider.startsWith(".") || provider.includes("/") || isAbsolute(provider);
}

/** The folder `provider:` packages and files resolve from: the config file's, else `cwd`. */
export function baseDirOf(source: string, cwd: string): string {
  return source.startsWith("<") ? cwd : dirname(resolve(cwd, source));
}

interface Found {
  file: string;
}

/**
 * Find the file to import for a package name, as Node would for `import()`: `node_modules`
 * folders above `baseDir`, then `modulePaths`, then `node_modules` folders above `cwd`.
 * The package's `exports` (conditions `import`, `node`, `default`, then `require`), else `module`/`main`.
 */
export function findPackage(spec: string, baseDir: string, options: BuildModelsOptions): Found | undefined {
  const parts = spec.split("/");
  const nameLength = spec.startsWith("@") ? 2 : 1;
  const name = parts.slice(0, nameLength).join("/");
  const subpath = parts.length > nameLength ? `./${parts.slice(nameLength).join("/")}` : ".";
  const cwd = options.cwd ?? process.cwd();
  const roots: string[] = [
    ...nodeModulesAbove(baseDir),
    ...(options.modulePaths ?? []).map((p) => resolve(cwd, p)),
    ...nodeModulesAbove(cwd),
  ];
  for (const root of roots) {
    const dir = join(root, name);
    const manifest = join(dir, "package.json");
    if (!existsSync(manifest)) continue;
    let pkg: Record<string, unknown>;
    try {
      pkg = JSON.parse(readFileSync(manifest, "utf8")) as Record<string, unknown>;
    } catch {
      continue;
    }
    const target = entryOf(pkg, subpath);
    if (target !== undefined) {
      const file = resolve(dir, target);
      if (existsSync(file) && statSync(file).isFile()) return { file };
    }
  }
  return undefined;
}

function nodeModulesAbove(dir: string): string[] {
  const out: string[] = [];
  for (let current = resolve(dir); ; current = dirname(current)) {
    if (basename(current) !== "node_modules") out.push(join(current, "node_modules"));
    if (dirname(current) === current) return out;
  }
}

const CONDITIONS = ["import", "node", "default"];

function entryOf(pkg: Record<string, unknown>, subpath: string): string | undefined {
  const exports = pkg.exports;
  if (exports !== undefined && exports !== null) {
    const isSubpathMap =
      typeof exports === "object" && !Array.isArray(exports) && Object.keys(exports).some((k) => k.startsWith("."));
    const target = isSubpathMap ? (exports as Record<string, unknown>)[subpath] : subpath === "." ? exports : undefined;
    return conditional(target);
  }
  if (subpath !== ".") return subpath;
  const main = typeof pkg.module === "string" ? pkg.module : typeof pkg.main === "string" ? pkg.main : "index.js";
  return main;
}

function conditional(target: unknown): string | undefined {
  if (typeof target === "string") return target;
  if (Array.isArray(target)) {
    for (const t of target) {
      const found = conditional(t);
      if (found !== undefined) return found;
    }
    return undefined;
  }
  if (target && typeof target === "object") {
    const entries = Object.entries(target as Record<string, unknown>);
    for (const [condition, value] of entries) if (CONDITIONS.includes(condition)) return conditional(value);
    const required = (target as Record<string, unknown>).require;
    return required === undefined ? undefined : conditional(required);
  }
  return undefined;
}

type Loaded = { plugin: AnyProviderPlugin } | { problem: string; specification?: true };
type Located = { file: string; isFile: boolean } | { problem: string };

/** The file a provider named by package or file path would be imported from, found without running anything. */
export function locateProvider(spec: string, baseDir: string, options: BuildModelsOptions): Located {
  const isFile = spec.startsWith(".") || isAbsolute(spec);
  if (isFile) {
    const path = resolve(baseDir, spec);
    if (!existsSync(path)) return { problem: `provider file "${spec}" was not found (looked for ${path})` };
    return { file: path, isFile };
  }
  const file = findPackage(spec, baseDir, options)?.file;
  if (file === undefined) {
    const name = spec.startsWith("@") ? spec.split("/").slice(0, 2).join("/") : (spec.split("/")[0] ?? spec);
    return { problem: `provider package "${spec}" is not installed: npm install ${name}` };
  }
  return { file, isFile };
}

/** Import a provider named by package or file and check that it is a plugin. */
export async function loadProvider(spec: string, baseDir: string, options: BuildModelsOptions): Promise<Loaded> {
  const located = locateProvider(spec, baseDir, options);
  if ("problem" in located) return located;
  const { file, isFile } = located;
  let mod: unknown;
  try {
    mod = await import(pathToFileURL(file).href);
  } catch (error) {
    return {
      problem: `provider ${isFile ? "file" : "package"} "${spec}" failed to load: ${error instanceof Error ? error.message : String(error)}`,
    };
  }
  const plugin = pluginIn(mod);
  if (plugin) {
    const mismatch = specificationMismatch(
      `provider ${isFile ? "file" : "package"} "${spec}"`,
      plugin.specificationVersion,
    );
    return mismatch === undefined ? { plugin } : { problem: mismatch, specification: true };
  }
  return {
    problem: `${isFile ? "file" : "package"} "${spec}" is not a provider plugin: it exports ${describeExports(mod)}; export a plugin made with defineProvider() as its default export or as "provider"`,
  };
}

function pluginIn(mod: unknown): AnyProviderPlugin | undefined {
  if (isProviderPlugin(mod)) return mod;
  if (!mod || typeof mod !== "object") return undefined;
  const record = mod as Record<string, unknown>;
  const candidates = [
    record.default,
    record.provider,
    (record.default as Record<string, unknown> | undefined)?.default,
    (record.default as Record<string, unknown> | undefined)?.provider,
  ];
  for (const candidate of candidates) if (isProviderPlugin(candidate)) return candidate;
  return undefined;
}

function describeExports(mod: unknown): string {
  if (!mod || typeof mod !== "object") return typeof mod;
  const entries = Object.entries(mod as Record<string, unknown>)
    .filter(([k]) => k !== "__esModule" && k !== "module.exports")
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  if (entries.length === 0) return "nothing";
  return entries
    .slice(0, 8)
    .map(([k, v]) => `${k} (${v === null ? "null" : Array.isArray(v) ? "array" : typeof v})`)
    .join(", ");
}

/** The message for a `provider:` that names neither a given plugin nor an installed package. */
export function unknownProviderMessage(provider: string, known: readonly string[]): string {
  if (known.length === 0) {
    return `unknown provider "${provider}": no providers are registered (pass them with { providers }) and no package of that name is installed`;
  }
  const close = suggest(provider, known, false);
  return `unknown provider "${provider}"${close}; known providers: ${known.join(", ")} (or name an installed plugin package)`;
}

/**
 * Where the plugin behind a `provider:` name comes from: given in `options.providers`, or a
 * package or file (`loaded` says whether it was imported, which runs its code).
 */
export type ProviderLocation = { kind: "given" } | { kind: "package" | "file"; file: string; loaded: boolean };

/**
 * The plugins behind a config's `provider:` names, where each comes from, and the problems found.
 * Names that are neither given plugins nor packages are problems only when `requireKnown` (without
 * a plugin table there is nothing to check them against). With `load: false` packages and files are
 * only located, never imported: nothing named by the config runs.
 */
export async function collectProviders(
  config: ModelConfig,
  options: BuildModelsOptions,
  requireKnown: boolean,
  load = true,
): Promise<{
  plugins: Map<string, AnyProviderPlugin>;
  locations: Map<string, ProviderLocation>;
  issues: ConfigIssue[];
  specificationIssues: ConfigIssue[];
}> {
  const given = providerMap(options.providers);
  const baseDir = baseDirOf(config.source, options.cwd ?? process.cwd());
  const plugins = new Map<string, AnyProviderPlugin>();
  const locations = new Map<string, ProviderLocation>();
  const problems = new Map<string, string>();
  // Plugins built for another version of the contract: reported apart, as a SpecificationVersionError.
  const mismatched = new Set<string>();
  const fromModule = async (name: string, spec: string) => {
    const located = locateProvider(spec, baseDir, options);
    if ("problem" in located) {
      problems.set(name, located.problem);
      return;
    }
    locations.set(name, { kind: located.isFile ? "file" : "package", file: located.file, loaded: load });
    if (!load) return;
    const loaded = await loadProvider(spec, baseDir, options);
    if ("plugin" in loaded) plugins.set(name, loaded.plugin);
    else {
      problems.set(name, loaded.problem);
      if (loaded.specification) mismatched.add(name);
    }
  };
  for (const name of new Set(config.models.map((m) => m.provider))) {
    const plugin = given.get(name);
    if (plugin) {
      plugins.set(name, plugin);
      locations.set(name, { kind: "given" });
      continue;
    }
    // A built-in short name loads its package when no plugin was given for it: `provider: openai`
    // works with just @orchestrator-ts/provider-openai installed (never the bare `openai` SDK package).
    const builtIn = builtInPackage(name);
    if (builtIn) {
      if (findPackage(builtIn, baseDir, options)) await fromModule(name, builtIn);
      else
        problems.set(name, `provider "${name}" comes from ${builtIn}, which is not installed: npm install ${builtIn}`);
      continue;
    }
    if (!isModuleSpecifier(name) && !findPackage(name, baseDir, options)) {
      if (requireKnown)
        problems.set(name, unknownProviderMessage(name, [...new Set([...given.keys(), ...BUILT_IN_NAMES])]));
      continue;
    }
    await fromModule(name, name);
  }
  const issues: ConfigIssue[] = [];
  const specificationIssues: ConfigIssue[] = [];
  config.models.forEach((entry, i) => {
    const problem = problems.get(entry.provider);
    if (problem !== undefined)
      (mismatched.has(entry.provider) ? specificationIssues : issues).push(
        issueAt(entryMeta(entry, i).locator, ["models", i, "provider"], problem),
      );
  });
  return { plugins, locations, issues, specificationIssues };
}

/** The error for a config's provider problems: a plugin built for another contract version first (nothing else about it can be checked). */
function providersError(
  issues: readonly ConfigIssue[],
  specificationIssues: readonly ConfigIssue[],
): ConfigError | undefined {
  if (specificationIssues.length > 0) return new SpecificationVersionError(specificationIssues);
  return issues.length > 0 ? new ConfigError(issues, { title: "Invalid model configuration" }) : undefined;
}

/**
 * Where the plugin behind every `provider:` of a config comes from, without importing anything:
 * for tools that check a config without running the code it names (`orchestrator validate`).
 * Unknown names and missing packages or files are reported at once, as by `resolveProviders`.
 */
export async function locateProviders(
  config: ModelConfig,
  options: BuildModelsOptions = {},
): Promise<Map<string, ProviderLocation>> {
  const { locations, issues } = await collectProviders(config, options, true, false);
  if (issues.length > 0) throw new ConfigError(issues, { title: "Invalid model configuration" });
  return locations;
}

/**
 * The plugin behind every `provider:` of a config: from `options.providers`, else imported by
 * package name or file path. Every problem (unknown name, package not installed, package that is
 * not a plugin) is reported at once, at its `models[i].provider` line.
 */
export async function resolveProviders(
  config: ModelConfig,
  options: BuildModelsOptions = {},
): Promise<Map<string, AnyProviderPlugin>> {
  const { plugins, issues, specificationIssues } = await collectProviders(config, options, true);
  const error = providersError(issues, specificationIssues);
  if (error) throw error;
  return plugins;
}
