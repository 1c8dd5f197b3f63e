import { readdirSync, statSync } from "node:fs";
import { basename, isAbsolute, join, resolve } from "node:path";
import { ConfigError } from "@orchestrator-ts/core";
import { GGML_TYPES, LLAMA_FILE_TYPE_NAMES } from "@orchestrator-ts/gguf";
import { GgufFileError } from "./errors";
import { type GgufSummary, readGgufSummary } from "./gguf-file";

/**
 * A requested quantization: a family (`"int8"` → Q8_0, `"int4"` → Q4_K_M, Q4_K_S, Q4_0…, `"f16"`,
 * `"f32"`, `"bf16"`, `"int5"`, `"int6"`, `"int3"`, `"int2"`) or an exact llama.cpp name (`"Q4_K_M"`).
 */
export type LlamaQuantization =
  | "int8"
  | "int4"
  | "f16"
  | "f32"
  | "bf16"
  | "int5"
  | "int6"
  | "int3"
  | "int2"
  | (string & {});

/** The quantization of one file: its family and the exact llama.cpp type name. */
export interface FileQuantization {
  /** `int8`, `int4`, `f16`… (`unknown` when neither metadata nor tensors say). */
  family: string;
  /** `Q8_0`, `Q4_K_M`, `F16`… */
  type: string;
}

/** Within a family, the type chosen first when a directory holds several (quality per byte). */
const PREFERENCE: Record<string, readonly string[]> = {
  int4: ["Q4_K_M", "Q4_K", "Q4_K_S", "Q4_0", "Q4_1", "IQ4_XS", "IQ4_NL"],
  int5: ["Q5_K_M", "Q5_K", "Q5_K_S", "Q5_0", "Q5_1"],
  int3: ["Q3_K_M", "Q3_K_L", "Q3_K", "Q3_K_S"],
  int2: ["Q2_K", "Q2_K_S"],
};

/** What each family means, for error messages. */
const FAMILY_TYPES: Record<string, string> = {
  int8: "Q8_0",
  int4: "Q4_K_M, Q4_K_S, Q4_0…",
  f16: "F16",
  f32: "F32",
  bf16: "BF16",
  int5: "Q5_K_M, Q5_0…",
  int6: "Q6_K",
  int3: "Q3_K_M…",
  int2: "Q2_K…",
};

function familyOf(type: string): string {
  if (type === "F32" || type === "F16" || type === "BF16") return type.toLowerCase();
  const bits = /^(?:I|T)?Q(\d)/.exec(type)?.[1];
  if (bits) return `int${bits}`;
  if (type.includes("FP4")) return "fp4";
  return "unknown";
}

/** The quantization of a file, from general.file_type or else the type of most weight bytes. */
export function quantizationOf(summary: Pick<GgufSummary, "fileType" | "dominantTensorType">): FileQuantization {
  const type =
    (summary.fileType !== undefined ? LLAMA_FILE_TYPE_NAMES[summary.fileType] : undefined) ??
    (summary.dominantTensorType !== undefined && Object.hasOwn(GGML_TYPES, summary.dominantTensorType)
      ? GGML_TYPES[summary.dominantTensorType]?.name
      : undefined) ??
    "unknown";
  return { family: familyOf(type), type };
}

/** Whether a file's quantization satisfies a request (family or exact type, case-insensitive). */
export function matchesQuantization(found: FileQuantization, requested: string): boolean {
  const want = requested.trim();
  return found.family === want.toLowerCase() || found.type === want.toUpperCase();
}

/** `int8 (Q8_0)`, `Q4_K_M`: a requested quantization as error messages show it. */
export function describeRequested(requested: string): string {
  const family = FAMILY_TYPES[requested.toLowerCase()];
  return family && family.toLowerCase() !== requested.toLowerCase() ? `${requested} (${family})` : requested;
}

function describeFile(q: FileQuantization, path: string): string {
  const file = basename(path);
  return q.type.toLowerCase() === q.family ? `${q.family} (${file})` : `${q.family} (${q.type}: ${file})`;
}

export interface ResolvedModelFile {
  summary: GgufSummary;
  quantization: FileQuantization;
}

export interface GgufFileEntry {
  path: string;
  quantization?: FileQuantization;
  summary?: GgufSummary;
  /** Why the file cannot be used, when its header is unreadable. */
  error?: GgufFileError;
}

/** Every `*.gguf` file of a directory with its quantization (unreadable files carry their error). */
export function listGgufFiles(dir: string): GgufFileEntry[] {
  const names = readdirSync(dir)
    .filter((n) => n.toLowerCase().endsWith(".gguf"))
    .sort();
  return names.map((n) => {
    const path = join(dir, n);
    try {
      const summary = readGgufSummary(path);
      return { path, summary, quantization: quantizationOf(summary) };
    } catch (error) {
      if (GgufFileError.isInstance(error)) return { path, error };
      throw error;
    }
  });
}

function rank(q: FileQuantization): number {
  const order = PREFERENCE[q.family];
  const i = order ? order.indexOf(q.type) : -1;
  return i < 0 ? 99 : i;
}

/**
 * The GGUF file to load for `modelPath` (a file or a directory of files) and `quantization`.
 * Missing paths, absent quantizations and mismatches are `ConfigError`s that say what exists;
 * a chosen file that is not valid GGUF is a `GgufFileError`.
 */
export function resolveModelFile(
  modelPath: string,
  quantization?: string,
  context: { provider?: string; model?: string } = {},
): ResolvedModelFile {
  let isDirectory: boolean;
  try {
    isDirectory = statSync(modelPath).isDirectory();
  } catch (error) {
    const code = (error as { code?: string }).code;
    throw new ConfigError(
      [
        {
          path: "modelPath",
          message:
            code === "ENOENT"
              ? // A relative path is from the working directory, which may not be where the user thinks.
                `${modelPath} does not exist${isAbsolute(modelPath) ? "" : ` (looked for ${resolve(modelPath)})`}`
              : `${modelPath} cannot be read (${code ?? String(error)})`,
        },
      ],
      {
        ...context,
        title: "Cannot load the model",
        cause: error,
      },
    );
  }

  if (!isDirectory) {
    const summary = readGgufSummary(modelPath);
    const found = quantizationOf(summary);
    // A mismatch is an error, not a warning: the file decides memory use and quality, and a silent
    // substitution would make the config lie about both.
    if (quantization && !matchesQuantization(found, quantization)) {
      throw new ConfigError(
        [
          {
            path: "quantization",
            message: `${describeRequested(quantization)} requested, but ${modelPath} is ${found.family} (${found.type}); point modelPath at its directory to choose by quantization`,
          },
        ],
        { ...context, title: "Quantization mismatch" },
      );
    }
    return { summary, quantization: found };
  }

  const entries = listGgufFiles(modelPath);
  const usable = entries.filter(
    (e): e is GgufFileEntry & ResolvedModelFile => e.summary !== undefined && e.quantization !== undefined,
  );
  const available = (): string => {
    const parts = usable.map((e) => describeFile(e.quantization, e.path));
    for (const e of entries) if (e.error) parts.push(`unreadable: ${basename(e.path)} (${e.error.problem})`);
    return parts.length > 0 ? parts.join(", ") : "no .gguf files";
  };

  if (!quantization) {
    const only = usable[0];
    if (usable.length === 1 && only) return { summary: only.summary, quantization: only.quantization };
    throw new ConfigError(
      [
        {
          path: "quantization",
          message:
            usable.length === 0
              ? `no usable GGUF file in ${modelPath} (${available()})`
              : `${modelPath} holds several GGUF files; set quantization to choose one; available: ${available()}`,
        },
      ],
      { ...context, title: "Cannot choose a model file" },
    );
  }
  const matching = usable
    .filter((e) => matchesQuantization(e.quantization, quantization))
    .sort((a, b) => rank(a.quantization) - rank(b.quantization));
  const chosen = matching[0];
  if (!chosen) {
    throw new ConfigError(
      [
        {
          path: "quantization",
          message: `${describeRequested(quantization)} not found in ${modelPath}; available: ${available()}`,
        },
      ],
      {
        ...context,
        title: "Quantization not found",
      },
    );
  }
  return { summary: chosen.summary, quantization: chosen.quantization };
}
