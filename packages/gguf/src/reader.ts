import { closeSync, fstatSync, openSync, readSync } from "node:fs";
import { open } from "node:fs/promises";
import type { GgufMetadataValue, GgufTensorInfo } from "./types";
import { GGUF_DEFAULT_ALIGNMENT, GGUF_MAGIC, GGUF_VALUE_SIZE, GGUF_VALUE_TYPE, ggmlTensorByteSize } from "./types";

/** What a GGUF header says: version, metadata, tensors, and where the data starts. */
export interface GgufHeader {
  version: number;
  tensorCount: number;
  metadataCount: number;
  /** Metadata in file order; 64-bit integers are bigints. Arrays are empty when read with `arrays: "skip"`. */
  metadata: Map<string, GgufMetadataValue>;
  tensors: GgufTensorInfo[];
  /** general.alignment, or 32. */
  alignment: number;
  /** Absolute offset of the tensor data section. */
  dataOffset: number;
  /** Total size of the file (or byte array) that was read. */
  fileSize: number;
}

/** How much to read and check: tensor data bounds, array decoding, the name in errors. */
export interface ReadGgufHeaderOptions {
  /**
   * Also check that every tensor's data lies inside the file (catches truncated downloads, whose
   * header still parses). Default true.
   */
  verifyTensorData?: boolean;
  /**
   * `"skip"` steps over array values (the vocabulary: tens of thousands of strings) without
   * decoding them, leaving an empty array in `metadata`: for a caller that needs only the scalars.
   * Default `"decode"`.
   */
  arrays?: "decode" | "skip";
  /** Who the file is in error messages (default: its path, or "the GGUF data" for bytes). */
  name?: string;
}

/** What is wrong with a file that is not well-formed GGUF. */
export type GgufProblem = "not-gguf" | "truncated" | "corrupt" | "unsupported";

/** Thrown for anything that is not a well-formed GGUF file. `code` is stable; `problem` says what is wrong. */
export class GgufFormatError extends Error {
  readonly code = "GGUF_FORMAT_ERROR";
  override name = "GgufFormatError";
  readonly problem: GgufProblem;
  constructor(message: string, problem: GgufProblem) {
    super(message);
    this.problem = problem;
  }
}

/** Internal: the parse ran past the bytes it was given (more may be on disk). */
class OutOfData extends Error {}

/** Internal: what is wrong, before the file's name is put in front. */
class Problem extends Error {
  constructor(
    readonly detail: string,
    readonly problem: GgufProblem,
  ) {
    super(detail);
  }
}

const decoder = new TextDecoder("utf-8", { fatal: true });
// Caps so a corrupt length field cannot make us allocate gigabytes or loop for ever.
const MAX_STRING_BYTES = 1 << 26;
const MAX_ITEMS = 1 << 28;
const MAX_COUNT = 1 << 24;
const MAX_DIMS = 8;

class Cursor {
  readonly #view: DataView;
  readonly #bytes: Uint8Array;
  offset = 0;

  constructor(bytes: Uint8Array) {
    this.#bytes = bytes;
    this.#view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  take(n: number): number {
    if (this.offset + n > this.#bytes.length) throw new OutOfData();
    const at = this.offset;
    this.offset += n;
    return at;
  }
  u8(): number {
    return this.#view.getUint8(this.take(1));
  }
  u32(): number {
    return this.#view.getUint32(this.take(4), true);
  }
  u64(): bigint {
    return this.#view.getBigUint64(this.take(8), true);
  }
  /** A u64 that must fit comfortably in a JS number. */
  count(what: string, max: number): number {
    const value = this.u64();
    if (value > BigInt(max)) throw new Problem(`is corrupt: implausible ${what} (${value})`, "corrupt");
    return Number(value);
  }
  string(): string {
    const length = this.count("string length", MAX_STRING_BYTES);
    const at = this.take(length);
    try {
      return decoder.decode(this.#bytes.subarray(at, at + length));
    } catch {
      throw new Problem(`is corrupt: invalid UTF-8 in a string at offset ${at}`, "corrupt");
    }
  }
  value(type: number, arrays: "decode" | "skip", depth = 0): GgufMetadataValue {
    const v = this.#view;
    switch (type) {
      case GGUF_VALUE_TYPE.UINT8:
        return v.getUint8(this.take(1));
      case GGUF_VALUE_TYPE.INT8:
        return v.getInt8(this.take(1));
      case GGUF_VALUE_TYPE.UINT16:
        return v.getUint16(this.take(2), true);
      case GGUF_VALUE_TYPE.INT16:
        return v.getInt16(this.take(2), true);
      case GGUF_VALUE_TYPE.UINT32:
        return v.getUint32(this.take(4), true);
      case GGUF_VALUE_TYPE.INT32:
        return v.getInt32(this.take(4), true);
      case GGUF_VALUE_TYPE.FLOAT32:
        return v.getFloat32(this.take(4), true);
      case GGUF_VALUE_TYPE.FLOAT64:
        return v.getFloat64(this.take(8), true);
      case GGUF_VALUE_TYPE.UINT64:
        return v.getBigUint64(this.take(8), true);
      case GGUF_VALUE_TYPE.INT64:
        return v.getBigInt64(this.take(8), true);
      case GGUF_VALUE_TYPE.BOOL: {
        const b = this.u8();
        if (b > 1) throw new Problem(`is corrupt: invalid bool value ${b}`, "corrupt");
        return b === 1;
      }
      case GGUF_VALUE_TYPE.STRING:
        return this.string();
      case GGUF_VALUE_TYPE.ARRAY: {
        if (depth > 2) throw new Problem("is corrupt: metadata arrays nested too deeply", "corrupt");
        const itemType = this.u32();
        const length = this.count("array length", MAX_ITEMS);
        if (arrays === "skip") {
          this.#skipItems(itemType, length, depth);
          return [];
        }
        const items: GgufMetadataValue[] = [];
        for (let i = 0; i < length; i++) items.push(this.value(itemType, arrays, depth + 1));
        return items;
      }
      default:
        throw new Problem(`is corrupt: unknown metadata value type ${type}`, "corrupt");
    }
  }
  #skipItems(itemType: number, length: number, depth: number): void {
    const fixed = GGUF_VALUE_SIZE[itemType];
    if (fixed === undefined) throw new Problem(`is corrupt: unknown metadata value type ${itemType}`, "corrupt");
    if (fixed > 0) this.take(fixed * length);
    else if (itemType === GGUF_VALUE_TYPE.STRING)
      for (let i = 0; i < length; i++) this.take(this.count("string length", MAX_STRING_BYTES));
    else for (let i = 0; i < length; i++) this.value(itemType, "skip", depth + 1);
  }
}

function parse(bytes: Uint8Array, fileSize: number, options: ReadGgufHeaderOptions): GgufHeader {
  const cursor = new Cursor(bytes);
  if (cursor.u32() !== GGUF_MAGIC) throw new Problem("is not a GGUF file (bad magic)", "not-gguf");
  const version = cursor.u32();
  if (version !== 2 && version !== 3) throw new Problem(`has an unsupported GGUF version (${version})`, "unsupported");
  const tensorCount = cursor.count("tensor count", MAX_COUNT);
  const metadataCount = cursor.count("metadata count", MAX_COUNT);
  const arrays = options.arrays ?? "decode";

  const metadata = new Map<string, GgufMetadataValue>();
  for (let i = 0; i < metadataCount; i++) {
    const key = cursor.string();
    const type = cursor.u32();
    if (metadata.has(key)) throw new Problem(`is corrupt: duplicate metadata key ${key}`, "corrupt");
    metadata.set(key, cursor.value(type, arrays));
  }
  const alignmentValue = metadata.get("general.alignment");
  const alignment = typeof alignmentValue === "number" ? alignmentValue : GGUF_DEFAULT_ALIGNMENT;
  if (alignment === 0 || (alignment & (alignment - 1)) !== 0)
    throw new Problem(`is corrupt: general.alignment must be a power of two, got ${alignment}`, "corrupt");

  const tensors: GgufTensorInfo[] = [];
  for (let i = 0; i < tensorCount; i++) {
    const name = cursor.string();
    const nDims = cursor.u32();
    if (nDims === 0 || nDims > MAX_DIMS)
      throw new Problem(`is corrupt: tensor ${name} has ${nDims} dimensions`, "corrupt");
    const dimensions: number[] = [];
    for (let d = 0; d < nDims; d++) dimensions.push(cursor.count(`dimension of ${name}`, Number.MAX_SAFE_INTEGER));
    const type = cursor.u32();
    const offset = cursor.u64();
    if (offset % BigInt(alignment) !== 0n) throw new Problem(`is corrupt: tensor ${name} is not aligned`, "corrupt");
    tensors.push({ name, dimensions, type, offset });
  }
  const dataOffset = Math.ceil(cursor.offset / alignment) * alignment;

  if (options.verifyTensorData ?? true) {
    // A truncated download still has a whole header: every tensor must lie inside the file.
    for (const tensor of tensors) {
      const end = dataOffset + Number(tensor.offset) + (ggmlTensorByteSize(tensor.type, tensor.dimensions) ?? 0);
      if (end > fileSize)
        throw new Problem(
          `is truncated: tensor data beyond end of file (${tensor.name} needs ${end} bytes, the file has ${fileSize})`,
          "truncated",
        );
    }
  }
  return { version, tensorCount, metadataCount, metadata, tensors, alignment, dataOffset, fileSize };
}

function failure(name: string, problem: Problem): GgufFormatError {
  return new GgufFormatError(`${name} ${problem.detail}`, problem.problem);
}

/** The header of a whole file, or a `GgufFormatError` saying what is wrong. `fileSize` counts bytes not given (a prefix of a larger file). */
function parseWhole(
  bytes: Uint8Array,
  fileSize: number,
  options: ReadGgufHeaderOptions,
  name: string,
): GgufHeader | OutOfData {
  try {
    return parse(bytes, fileSize, options);
  } catch (error) {
    if (error instanceof Problem) throw failure(name, error);
    if (error instanceof OutOfData) return error;
    throw error;
  }
}

function outOfData(name: string, fileSize: number): GgufFormatError {
  if (fileSize < 8) return new GgufFormatError(`${name} is not a GGUF file (only ${fileSize} bytes)`, "not-gguf");
  return new GgufFormatError(
    `${name} is truncated: the header ends past the end of the file (${fileSize} bytes)`,
    "truncated",
  );
}

/** Parses a GGUF header from bytes already in memory (the whole file, or as much of it as you have with `verifyTensorData: false`). */
export function parseGgufHeader(bytes: Uint8Array, options: ReadGgufHeaderOptions = {}): GgufHeader {
  const name = options.name ?? "the GGUF data";
  const header = parseWhole(bytes, bytes.length, options, name);
  if (header instanceof OutOfData) throw outOfData(name, bytes.length);
  return header;
}

/**
 * Reads the header (version, tensor count, metadata, tensor infos) of a GGUF file or byte array.
 * From a path it reads only as much of the file as the header needs, growing the read until it
 * fits. Throws `GgufFormatError` for anything malformed or truncated.
 */
export async function readGgufHeader(
  source: string | Uint8Array,
  options: ReadGgufHeaderOptions = {},
): Promise<GgufHeader> {
  if (typeof source !== "string") return parseGgufHeader(source, options);
  const name = options.name ?? source;
  const handle = await open(source, "r");
  try {
    const { size } = await handle.stat();
    let chunk = Math.min(size, 1 << 20);
    for (;;) {
      const buffer = new Uint8Array(chunk);
      const { bytesRead } = await handle.read(buffer, 0, chunk, 0);
      const header = parseWhole(buffer.subarray(0, bytesRead), size, options, name);
      if (!(header instanceof OutOfData)) return header;
      if (bytesRead >= size) throw outOfData(name, size);
      chunk = Math.min(size, chunk * 4);
    }
  } finally {
    await handle.close();
  }
}

/**
 * `readGgufHeader` for a path, synchronously: for a model that must know its context window and
 * memory needs when it is constructed, before anything is loaded.
 */
export function readGgufHeaderSync(path: string, options: ReadGgufHeaderOptions = {}): GgufHeader {
  const name = options.name ?? path;
  const fd = openSync(path, "r");
  try {
    const size = fstatSync(fd).size;
    let chunk = Math.min(size, 1 << 20);
    for (;;) {
      const buffer = new Uint8Array(chunk);
      const read = readSync(fd, buffer, 0, chunk, 0);
      const header = parseWhole(buffer.subarray(0, read), size, options, name);
      if (!(header instanceof OutOfData)) return header;
      if (read >= size) throw outOfData(name, size);
      chunk = Math.min(size, chunk * 4);
    }
  } finally {
    closeSync(fd);
  }
}
