import { GgufFormatError, type GgufMetadataValue, ggmlTensorByteSize, readGgufHeaderSync } from "@orchestrator-ts/gguf";
import { GgufFileError } from "./errors";

/** What the adapter needs from a GGUF header: enough to pick a file, fill capabilities and size memory. */
export interface GgufSummary {
  path: string;
  sizeBytes: number;
  version: number;
  architecture: string | undefined;
  name: string | undefined;
  /** general.file_type (llama_ftype), when the file states it. */
  fileType: number | undefined;
  /** The ggml type holding most weight bytes (used when general.file_type is absent). */
  dominantTensorType: number | undefined;
  /** `<arch>.context_length`: the context the model was trained with. */
  contextLength: number | undefined;
  blockCount: number | undefined;
  embeddingLength: number | undefined;
  headCount: number | undefined;
  headCountKv: number | undefined;
  hasChatTemplate: boolean;
  tensorCount: number;
}

const str = (v: GgufMetadataValue | undefined): string | undefined => (typeof v === "string" ? v : undefined);
// 64-bit integers arrive as bigints.
const num = (v: GgufMetadataValue | undefined): number | undefined =>
  typeof v === "number" ? v : typeof v === "bigint" && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : undefined;

/**
 * Reads and checks a GGUF header synchronously (so a model knows its context window and memory
 * needs at construction, before anything is loaded), with `@orchestrator-ts/gguf`'s reader: only
 * the header is read, the vocabulary is stepped over, and every tensor must lie inside the file.
 * Throws `GgufFileError` for files that are not GGUF, corrupt or truncated.
 */
export function readGgufSummary(path: string): GgufSummary {
  let header: ReturnType<typeof readGgufHeaderSync>;
  try {
    header = readGgufHeaderSync(path, { arrays: "skip" });
  } catch (error) {
    if (error instanceof GgufFormatError) throw new GgufFileError(error.message, error.problem, { cause: error });
    throw error;
  }
  const meta = header.metadata;
  const bytesByType = new Map<number, number>();
  for (const t of header.tensors) {
    if (t.dimensions.length >= 2)
      bytesByType.set(t.type, (bytesByType.get(t.type) ?? 0) + (ggmlTensorByteSize(t.type, t.dimensions) ?? 0));
  }
  let dominantTensorType: number | undefined;
  let most = -1;
  for (const [type, size] of bytesByType) if (size > most) [dominantTensorType, most] = [type, size];

  const architecture = str(meta.get("general.architecture"));
  const arch = (key: string): number | undefined =>
    architecture ? num(meta.get(`${architecture}.${key}`)) : undefined;
  return {
    path,
    sizeBytes: header.fileSize,
    version: header.version,
    architecture,
    name: str(meta.get("general.name")),
    fileType: num(meta.get("general.file_type")),
    dominantTensorType,
    contextLength: arch("context_length"),
    blockCount: arch("block_count"),
    embeddingLength: arch("embedding_length"),
    headCount: arch("attention.head_count"),
    headCountKv: arch("attention.head_count_kv"),
    hasChatTemplate: typeof meta.get("tokenizer.chat_template") === "string",
    tensorCount: header.tensorCount,
  };
}
