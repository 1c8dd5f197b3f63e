import { open } from "node:fs/promises";
import type { GgufMetadataValue, GgufTensorInfo } from "./gguf-types";
import { GGUF_DEFAULT_ALIGNMENT, GGUF_MAGIC, GGUF_VALUE_TYPE } from "./gguf-types";

export interface GgufHeader {
  version: number;
  tensorCount: number;
  metadataCount: number;
  /** Metadata in file order; 64-bit integers are bigints. */
  metadata: Map<string, GgufMetadataValue>;
  tensors: GgufTensorInfo[];
  /** general.alignment, or 32. */
  alignment: number;
  /** Absolute offset of the tensor data section. */
  dataOffset: number;
  /** Total size of the file (or byte array) that was read. */
  fileSize: number;
}

export interface ReadGgufHeaderOptions {
  /**
   * Also check that every tensor's data lies inside the file (catches truncated downloads, whose
   * header still parses). Default true.
   */
  verifyTensorData?: boolean;
}

/** Thrown for anything that is not a well-formed GGUF file. `code` is stable. */
export class GgufFormatError extends Error {
  readonly code = "GGUF_FORMAT_ERROR";
  override name = "GgufFormatError";
}

/** Internal: the parse ran past the bytes it was given (more may be on disk). */
class OutOfData extends Error {}

const decoder = new TextDecoder("utf-8", { fatal: true });
// Caps so a corrupt length field cannot make us allocate gigabytes.
const MAX_STRING_BYTES = 1 << 26;
const MAX_ITEMS = 1 << 28;
const MAX_DIMS = 8;

class Cursor {
  private readonly view: DataView;
  offset = 0;

  constructor(private readonly bytes: Uint8Array) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  private take(n: number): number {
    if (this.offset + n > this.bytes.length) throw new OutOfData();
    const at = this.offset;
    this.offset += n;
    return at;
  }
  u8(): number {
    return this.view.getUint8(this.take(1));
  }
  i8(): number {
    return this.view.getInt8(this.take(1));
  }
  u16(): number {
    return this.view.getUint16(this.take(2), true);
  }
  i16(): number {
    return this.view.getInt16(this.take(2), true);
  }
  u32(): number {
    return this.view.getUint32(this.take(4), true);
  }
  i32(): number {
    return this.view.getInt32(this.take(4), true);
  }
  f32(): number {
    return this.view.getFloat32(this.take(4), true);
  }
  f64(): number {
    return this.view.getFloat64(this.take(8), true);
  }
  u64(): bigint {
    return this.view.getBigUint64(this.take(8), true);
  }
  i64(): bigint {
    return this.view.getBigInt64(this.take(8), true);
  }
  /** A u64 that must fit comfortably in a JS number. */
  count(what: string, max: number): number {
    const value = this.u64();
    if (value > BigInt(max)) throw new GgufFormatError(`implausible ${what}: ${value}`);
    return Number(value);
  }
  string(): string {
    const length = this.count("string length", MAX_STRING_BYTES);
    const at = this.take(length);
    try {
      return decoder.decode(this.bytes.subarray(at, at + length));
    } catch {
      throw new GgufFormatError(`invalid UTF-8 in string at offset ${at}`);
    }
  }
}

function readValue(cursor: Cursor, type: number, depth = 0): GgufMetadataValue {
  switch (type) {
    case GGUF_VALUE_TYPE.UINT8:
      return cursor.u8();
    case GGUF_VALUE_TYPE.INT8:
      return cursor.i8();
    case GGUF_VALUE_TYPE.UINT16:
      return cursor.u16();
    case GGUF_VALUE_TYPE.INT16:
      return cursor.i16();
    case GGUF_VALUE_TYPE.UINT32:
      return cursor.u32();
    case GGUF_VALUE_TYPE.INT32:
      return cursor.i32();
    case GGUF_VALUE_TYPE.FLOAT32:
      return cursor.f32();
    case GGUF_VALUE_TYPE.FLOAT64:
      return cursor.f64();
    case GGUF_VALUE_TYPE.UINT64:
      return cursor.u64();
    case GGUF_VALUE_TYPE.INT64:
      return cursor.i64();
    case GGUF_VALUE_TYPE.BOOL: {
      const b = cursor.u8();
      if (b > 1) throw new GgufFormatError(`invalid bool value ${b}`);
      return b === 1;
    }
    case GGUF_VALUE_TYPE.STRING:
      return cursor.string();
    case GGUF_VALUE_TYPE.ARRAY: {
      if (depth > 2) throw new GgufFormatError("arrays nested too deeply");
      const itemType = cursor.u32();
      const length = cursor.count("array length", MAX_ITEMS);
      const items: GgufMetadataValue[] = [];
      for (let i = 0; i < length; i++) items.push(readValue(cursor, itemType, depth + 1));
      return items;
    }
    default:
      throw new GgufFormatError(`unknown metadata value type ${type}`);
  }
}

/** [block size, bytes per block] for the ggml types we can size; others are only offset-checked. */
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

/** Byte size of a tensor's data, or undefined for types this reader does not know. */
export function ggmlTensorByteSize(type: number, dimensions: readonly number[]): number | undefined {
  const size = TYPE_SIZES[type];
  if (!size) return undefined;
  const [blockSize, blockBytes] = size;
  const rowLength = dimensions[0] ?? 1;
  if (rowLength % blockSize !== 0) return undefined;
  const rows = dimensions.slice(1).reduce((a, b) => a * b, 1);
  return (rowLength / blockSize) * blockBytes * rows;
}

function parse(bytes: Uint8Array, fileSize: number, verifyTensorData: boolean): GgufHeader {
  const cursor = new Cursor(bytes);
  const magic = cursor.u32();
  if (magic !== GGUF_MAGIC) throw new GgufFormatError("not a GGUF file (bad magic)");
  const version = cursor.u32();
  if (version !== 2 && version !== 3) throw new GgufFormatError(`unsupported GGUF version ${version}`);
  const tensorCount = cursor.count("tensor count", 1 << 24);
  const metadataCount = cursor.count("metadata count", 1 << 24);

  const metadata = new Map<string, GgufMetadataValue>();
  for (let i = 0; i < metadataCount; i++) {
    const key = cursor.string();
    const type = cursor.u32();
    if (metadata.has(key)) throw new GgufFormatError(`duplicate metadata key ${key}`);
    metadata.set(key, readValue(cursor, type));
  }
  const alignmentValue = metadata.get("general.alignment");
  const alignment = typeof alignmentValue === "number" ? alignmentValue : GGUF_DEFAULT_ALIGNMENT;
  if (alignment === 0 || (alignment & (alignment - 1)) !== 0) {
    throw new GgufFormatError(`general.alignment must be a power of two, got ${alignment}`);
  }

  const tensors: GgufTensorInfo[] = [];
  for (let i = 0; i < tensorCount; i++) {
    const name = cursor.string();
    const nDims = cursor.u32();
    if (nDims === 0 || nDims > MAX_DIMS) throw new GgufFormatError(`tensor ${name} has ${nDims} dimensions`);
    const dimensions: number[] = [];
    for (let d = 0; d < nDims; d++) dimensions.push(cursor.count(`dimension of ${name}`, Number.MAX_SAFE_INTEGER));
    const type = cursor.u32();
    const offset = cursor.u64();
    if (offset % BigInt(alignment) !== 0n) throw new GgufFormatError(`tensor ${name} is not aligned`);
    tensors.push({ name, dimensions, type, offset });
  }
  const dataOffset = Math.ceil(cursor.offset / alignment) * alignment;

  if (verifyTensorData) {
    for (const tensor of tensors) {
      const start = dataOffset + Number(tensor.offset);
      const end = start + (ggmlTensorByteSize(tensor.type, tensor.dimensions) ?? 0);
      if (end > fileSize) {
        throw new GgufFormatError(
          `truncated GGUF: tensor ${tensor.name} needs bytes up to ${end} but the file has ${fileSize}`,
        );
      }
    }
  }
  return { version, tensorCount, metadataCount, metadata, tensors, alignment, dataOffset, fileSize };
}

/** Parses a GGUF header from bytes already in memory. */
export function parseGgufHeader(bytes: Uint8Array, options: ReadGgufHeaderOptions = {}): GgufHeader {
  try {
    return parse(bytes, bytes.length, options.verifyTensorData ?? true);
  } catch (error) {
    if (error instanceof OutOfData) throw new GgufFormatError(`truncated GGUF: header ends past ${bytes.length} bytes`);
    throw error;
  }
}

/**
 * Reads the header (version, tensor count, metadata, tensor infos) of a GGUF file or byte array.
 * From a path it reads only as much of the file as the header needs. Throws GgufFormatError for
 * anything malformed or truncated.
 */
export async function readGgufHeader(source: string | Uint8Array, options: ReadGgufHeaderOptions = {}): Promise<GgufHeader> {
  if (typeof source !== "string") return parseGgufHeader(source, options);
  const handle = await open(source, "r");
  try {
    const { size } = await handle.stat();
    let chunk = Math.min(size, 1 << 20);
    for (;;) {
      const buffer = new Uint8Array(chunk);
      const { bytesRead } = await handle.read(buffer, 0, chunk, 0);
      const bytes = buffer.subarray(0, bytesRead);
      try {
        return parse(bytes, size, options.verifyTensorData ?? true);
      } catch (error) {
        if (!(error instanceof OutOfData)) throw error;
        if (bytesRead >= size) throw new GgufFormatError(`truncated GGUF: header ends past ${size} bytes`);
        chunk = Math.min(size, chunk * 4);
      }
    }
  } finally {
    await handle.close();
  }
}
