import { availableParallelism } from "node:os";
import { isModuleNotFound, lazyModule, missingPackageError } from "@orchestrator-ts/core/internal";
import type { Llama } from "node-llama-cpp";

type NodeLlamaCpp = typeof import("node-llama-cpp");

const NEEDED = { package: "node-llama-cpp", neededBy: "The llama.cpp provider" };

const nodeLlamaCpp = lazyModule<NodeLlamaCpp>(() => import("node-llama-cpp"), NEEDED);

/**
 * node-llama-cpp is ESM-only; a dynamic import keeps the CommonJS build of this package loadable
 * and keeps `import "@orchestrator-ts/provider-llama-cpp"` cheap until a model is used.
 */
export const loadNodeLlamaCpp = nodeLlamaCpp.load;

/**
 * Rejects when node-llama-cpp cannot be found from here, with the package to install. It is only
 * located, not imported: importing it takes ~0.5 s, which a config check should not cost. Where it
 * cannot be located without importing it (Node before 20.6 has no `import.meta.resolve`; an ES
 * module build bundled into CommonJS has an empty `import.meta`, but the bundle's require), and for
 * any failure but "not found", the check passes: the import at first use reports what is wrong.
 */
export async function checkNodeLlamaCpp(): Promise<void> {
  const locate =
    typeof __ORCHESTRATOR_CJS__ === "boolean" && __ORCHESTRATOR_CJS__
      ? require.resolve
      : typeof import.meta.resolve === "function"
        ? import.meta.resolve
        : typeof require === "function"
          ? require.resolve
          : undefined;
  if (typeof locate !== "function") return;
  try {
    locate("node-llama-cpp");
  } catch (error) {
    if (isModuleNotFound(error, NEEDED.package)) throw missingPackageError(NEEDED, error);
  }
}

/**
 * Default CPU threads: half the logical CPUs (≈ the physical cores), at least 1, at most 8.
 * llama.cpp's threads spin while they wait for each other, so any oversubscription is ruinous:
 * on a 2-core machine 2 threads measured ~13 tok/s against ~2,900 tok/s with 1.
 */
export function defaultThreads(cpus: number = availableParallelism()): number {
  return Math.max(1, Math.min(8, Math.floor(cpus / 2)));
}

/** Resolves after `promise` or after `ms`, whichever is first: disposal in node-llama-cpp 3.21.1 can hang. */
export async function settleWithin(promise: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), ms);
    timer.unref?.();
  });
  try {
    return await Promise.race([
      promise.then(
        () => true,
        () => true,
      ),
      timeout,
    ]);
  } finally {
    clearTimeout(timer);
  }
}

export interface RuntimeOptions {
  /** `false` for CPU only, `"auto"` to use a GPU when one exists. */
  gpu: false | "auto";
  maxThreads: number;
}

interface Runtime {
  key: string;
  llama: Promise<Llama>;
  refs: number;
  /** Lines logged so far (the log keeps only the last ones). */
  logCount: number;
  /** Recent warning/error lines of llama.cpp: a failed load only says "Failed to load model". */
  log: string[];
}

const runtimes = new Map<string, Runtime>();
const LOG_LINES = 20;
const DISPOSE_LIMIT_MS = 2_000;

/** A model's share of a process-wide `Llama` (one per GPU mode and thread count: getLlama costs ~300 ms). */
export interface RuntimeLease {
  readonly llama: Llama;
  /** Lines llama.cpp logged since `mark` was taken. */
  logSince(mark: number): string[];
  logMark(): number;
  /** Forget this Llama (after a failed load its disposal may hang): later leases get a fresh one. */
  poison(): void;
  release(): Promise<void>;
}

export async function acquireRuntime(options: RuntimeOptions): Promise<RuntimeLease> {
  const key = `${options.gpu}:${options.maxThreads}`;
  let runtime = runtimes.get(key);
  if (!runtime) {
    const log: string[] = [];
    const llamaPromise = loadNodeLlamaCpp().then(({ getLlama, LlamaLogLevel }) =>
      getLlama({
        gpu: options.gpu,
        build: "never",
        maxThreads: options.maxThreads,
        logLevel: LlamaLogLevel.warn,
        logger: (level, message) => {
          if (level !== LlamaLogLevel.error && level !== LlamaLogLevel.fatal && level !== LlamaLogLevel.warn) return;
          log.push(message.trim());
          if (log.length > LOG_LINES * 2) log.splice(0, log.length - LOG_LINES);
          created.logCount++;
        },
      }),
    );
    const created: Runtime = { key, llama: llamaPromise, refs: 0, logCount: 0, log };
    runtime = created;
    runtimes.set(key, runtime);
    created.llama.catch(() => {
      if (runtimes.get(key) === created) runtimes.delete(key);
    });
  }
  const r = runtime;
  r.refs++;
  let llama: Llama;
  try {
    llama = await r.llama;
  } catch (error) {
    r.refs--;
    throw error;
  }
  let released = false;
  return {
    llama,
    logMark: () => r.logCount,
    logSince: (mark) => {
      const count = r.logCount - mark;
      return count <= 0 ? [] : r.log.slice(-Math.min(count, r.log.length));
    },
    poison: () => {
      if (runtimes.get(key) === r) runtimes.delete(key);
    },
    release: async () => {
      if (released) return;
      released = true;
      r.refs--;
      if (r.refs > 0) return;
      if (runtimes.get(key) === r) runtimes.delete(key);
      await settleWithin(llama.dispose(), DISPOSE_LIMIT_MS);
    },
  };
}
