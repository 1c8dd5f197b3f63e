import { closeSync, fstatSync, openSync, readSync } from "node:fs";
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

const GGUF_MAGIC = 0x46554747; // "GGUF" little-endian
// Caps so a corrupt length field cannot make us allocate or loop for ever.
const MAX_STRING_BYTES = 1 << 26;
const MAX_ITEMS = 1 << 28;
const MAX_COUNT = 1 << 24;

/** [block size, bytes per block] of the ggml types we can size; others are only offset-checked. */
const TYPE_SIZES: Record<number, readonly [number, number]> = {
  0: [1, 4], // F32
  1: [1, 2], // F16
  2: [32, 18], // Q4_0
  3: [32, 20], // Q4_1
  6: [32, 22], // Q5_0
  7: [32, 24], // Q5_1
  8: [32, 34], // Q8_0
  9: [32, 36], // Q8_1
  10: [256, 84], // Q2_K
  11: [256, 110], // Q3_K
  12: [256, 144], // Q4_K
  13: [256, 176], // Q5_K
  14: [256, 210], // Q6_K
  15: [256, 292], // Q8_K
  24: [1, 1], // I8
  25: [1, 2], // I16
  26: [1, 4], // I32
  27: [1, 8], // I64
  28: [1, 8], // F64
  30: [1, 2], // BF16
};

function tensorBytes(type: number, dims: readonly number[]): number | undefined {
  const size = TYPE_SIZES[type];
  if (!size) return undefined;
  const row = dims[0] ?? 1;
  if (row % size[0] !== 0) return undefined;
  let rows = 1;
  for (let i = 1; i < dims.length; i++) rows *= dims[i] ?? 1;
  return (row / size[0]) * size[1] * rows;
}

/** Signals that the bytes read so far end mid-header: read more, or the file is truncated. */
class NeedMore extends Error {}

class Cursor {
  offset = 0;
  readonly #view: DataView;
  readonly #bytes: Uint8Array;
  constructor(bytes: Uint8Array) {
    this.#bytes = bytes;
    this.#view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }
  #take(n: number): number {
    if (this.offset + n > this.#bytes.length) throw new NeedMore();
    const at = this.offset;
    this.offset += n;
    return at;
  }
  skip(n: number): void {
    this.#take(n);
  }
  u32(): number {
    return this.#view.getUint32(this.#take(4), true);
  }
  u64(what: string, max: number): number {
    const value = this.#view.getBigUint64(this.#take(8), true);
    if (value > BigInt(max)) throw new GgufFileError(`implausible ${what} (${value})`, "corrupt");
    return Number(value);
  }
  string(): string {
    const length = this.u64("string length", MAX_STRING_BYTES);
    const at = this.#take(length);
    return Buffer.from(this.#bytes.buffer, this.#bytes.byteOffset + at, length).toString("utf8");
  }
  /** A scalar metadata value as a number, or undefined for non-numeric types. */
  value(type: number, depth = 0): number | string | boolean | undefined {
    switch (type) {
      case 0:
      case 1:
      case 7:
        return type === 7 ? this.#view.getUint8(this.#take(1)) === 1 : type === 0 ? this.#view.getUint8(this.#take(1)) : this.#view.getInt8(this.#take(1));
      case 2:
        return this.#view.getUint16(this.#take(2), true);
      case 3:
        return this.#view.getInt16(this.#take(2), true);
      case 4:
        return this.#view.getUint32(this.#take(4), true);
      case 5:
        return this.#view.getInt32(this.#take(4), true);
      case 6:
        return this.#view.getFloat32(this.#take(4), true);
      case 10:
        return Number(this.#view.getBigUint64(this.#take(8), true));
      case 11:
        return Number(this.#view.getBigInt64(this.#take(8), true));
      case 12:
        return this.#view.getFloat64(this.#take(8), true);
      case 8:
        return this.string();
      case 9: {
        // Arrays (the vocabulary) are skipped without decoding: only their size matters here.
        if (depth > 2) throw new GgufFileError("metadata arrays nested too deeply", "corrupt");
        const itemType = this.u32();
        const length = this.u64("array length", MAX_ITEMS);
        const fixed = [1, 1, 2, 2, 4, 4, 4, 1, 0, 0, 8, 8, 8][itemType];
        if (fixed === undefined) throw new GgufFileError(`unknown metadata value type ${itemType}`, "corrupt");
        if (fixed > 0) this.skip(fixed * length);
        else for (let i = 0; i < length; i++) this.value(itemType, depth + 1);
        return undefined;
      }
      default:
        throw new GgufFileError(`unknown metadata value type ${type}`, "corrupt");
    }
  }
}

function parse(bytes: Uint8Array, path: string, fileSize: number): GgufSummary {
  const c = new Cursor(bytes);
  if (c.u32() !== GGUF_MAGIC) throw new GgufFileError(`${path} is not a GGUF file (bad magic)`, "not-gguf");
  const version = c.u32();
  if (version !== 2 && version !== 3) throw new GgufFileError(`${path}: unsupported GGUF version ${version}`, "unsupported");
  const tensorCount = c.u64("tensor count", MAX_COUNT);
  const metadataCount = c.u64("metadata count", MAX_COUNT);
  const meta = new Map<string, number | string | boolean>();
  for (let i = 0; i < metadataCount; i++) {
    const key = c.string();
    const value = c.value(c.u32());
    if (value !== undefined) meta.set(key, value);
  }
  const alignmentValue = meta.get("general.alignment");
  const alignment = typeof alignmentValue === "number" && alignmentValue > 0 ? alignmentValue : 32;
  const tensors: { type: number; dims: number[]; offset: number }[] = [];
  for (let i = 0; i < tensorCount; i++) {
    c.string();
    const nDims = c.u32();
    if (nDims === 0 || nDims > 8) throw new GgufFileError(`${path}: a tensor has ${nDims} dimensions`, "corrupt");
    const dims: number[] = [];
    for (let d = 0; d < nDims; d++) dims.push(c.u64("tensor dimension", Number.MAX_SAFE_INTEGER));
    const type = c.u32();
    tensors.push({ type, dims, offset: c.u64("tensor offset", Number.MAX_SAFE_INTEGER) });
  }
  const dataOffset = Math.ceil(c.offset / alignment) * alignment;
  // A truncated download still has a whole header: check every tensor lies inside the file.
  const bytesByType = new Map<number, number>();
  for (const t of tensors) {
    const size = tensorBytes(t.type, t.dims) ?? 0;
    const end = dataOffset + t.offset + size;
    if (end > fileSize) {
      throw new GgufFileError(`${path} is truncated: tensor data beyond end of file (needs ${end} bytes, file has ${fileSize})`, "truncated");
    }
    if (t.dims.length >= 2) bytesByType.set(t.type, (bytesByType.get(t.type) ?? 0) + size);
  }
  let dominantTensorType: number | undefined;
  let most = -1;
  for (const [type, size] of bytesByType) if (size > most) [dominantTensorType, most] = [type, size];

  const architecture = str(meta.get("general.architecture"));
  const arch = (key: string): number | undefined => (architecture ? num(meta.get(`${architecture}.${key}`)) : undefined);
  return {
    path,
    sizeBytes: fileSize,
    version,
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
    tensorCount,
  };
}

const str = (v: unknown): string | undefined => (typeof v === "string" ? v : undefined);
const num = (v: unknown): number | undefined => (typeof v === "number" ? v : undefined);

/**
 * Reads and checks a GGUF header synchronously (so a model knows its context window and memory
 * needs at construction, before anything is loaded). Reads only the header, growing the read until
 * it fits. Throws `GgufFileError` for files that are not GGUF, corrupt or truncated.
 */
export function readGgufSummary(path: string): GgufSummary {
  const fd = openSync(path, "r");
  try {
    const size = fstatSync(fd).size;
    let chunk = Math.min(size, 1 << 20);
    for (;;) {
      const buffer = Buffer.allocUnsafe(chunk);
      const read = readSync(fd, buffer, 0, chunk, 0);
      try {
        return parse(buffer.subarray(0, read), path, size);
      } catch (error) {
        if (!(error instanceof NeedMore)) throw error;
        if (read >= size) {
          if (read < 8) throw new GgufFileError(`${path} is not a GGUF file (only ${size} bytes)`, "not-gguf");
          throw new GgufFileError(`${path} is truncated: the header ends past the end of the file (${size} bytes)`, "truncated");
        }
        chunk = Math.min(size, chunk * 4);
      }
    }
  } finally {
    closeSync(fd);
  }
}
