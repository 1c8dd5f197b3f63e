import { GGUF_DEFAULT_ALIGNMENT, GGUF_MAGIC, GGUF_VALUE_TYPE, GGUF_VERSION } from "./types";
import type { GgufWriteValue } from "./types";

/** A tensor for `encodeGguf`: its name, dimensions, ggml type and encoded bytes. */
export interface GgufTensorToWrite {
  name: string;
  /** GGUF order: ne[0] is the row length. */
  dimensions: readonly number[];
  /** ggml_type id. */
  type: number;
  data: Uint8Array;
}

const encoder = new TextEncoder();

/** Growable little-endian byte sink. */
class ByteSink {
  private buffer = new Uint8Array(1 << 16);
  private view = new DataView(this.buffer.buffer);
  length = 0;

  private reserve(extra: number): number {
    const needed = this.length + extra;
    if (needed > this.buffer.length) {
      let size = this.buffer.length * 2;
      while (size < needed) size *= 2;
      const next = new Uint8Array(size);
      next.set(this.buffer.subarray(0, this.length));
      this.buffer = next;
      this.view = new DataView(next.buffer);
    }
    const at = this.length;
    this.length = needed;
    return at;
  }

  u8(v: number): void {
    this.view.setUint8(this.reserve(1), v);
  }
  i8(v: number): void {
    this.view.setInt8(this.reserve(1), v);
  }
  u16(v: number): void {
    this.view.setUint16(this.reserve(2), v, true);
  }
  i16(v: number): void {
    this.view.setInt16(this.reserve(2), v, true);
  }
  u32(v: number): void {
    this.view.setUint32(this.reserve(4), v, true);
  }
  i32(v: number): void {
    this.view.setInt32(this.reserve(4), v, true);
  }
  f32(v: number): void {
    this.view.setFloat32(this.reserve(4), v, true);
  }
  f64(v: number): void {
    this.view.setFloat64(this.reserve(8), v, true);
  }
  u64(v: bigint | number): void {
    this.view.setBigUint64(this.reserve(8), BigInt(v), true);
  }
  i64(v: bigint): void {
    this.view.setBigInt64(this.reserve(8), v, true);
  }
  bytes(data: Uint8Array): void {
    const at = this.reserve(data.length);
    this.buffer.set(data, at);
  }
  string(text: string): void {
    const data = encoder.encode(text);
    this.u64(data.length);
    this.bytes(data);
  }
  padTo(alignment: number): void {
    const pad = (alignment - (this.length % alignment)) % alignment;
    this.reserve(pad); // fresh bytes are zero
  }
  toUint8Array(): Uint8Array {
    return this.buffer.slice(0, this.length);
  }
}

function scalarTypeId(type: string): number {
  switch (type) {
    case "u8":
      return GGUF_VALUE_TYPE.UINT8;
    case "i8":
      return GGUF_VALUE_TYPE.INT8;
    case "u16":
      return GGUF_VALUE_TYPE.UINT16;
    case "i16":
      return GGUF_VALUE_TYPE.INT16;
    case "u32":
      return GGUF_VALUE_TYPE.UINT32;
    case "i32":
      return GGUF_VALUE_TYPE.INT32;
    case "f32":
      return GGUF_VALUE_TYPE.FLOAT32;
    case "f64":
      return GGUF_VALUE_TYPE.FLOAT64;
    case "u64":
      return GGUF_VALUE_TYPE.UINT64;
    case "i64":
      return GGUF_VALUE_TYPE.INT64;
    case "bool":
      return GGUF_VALUE_TYPE.BOOL;
    case "string":
      return GGUF_VALUE_TYPE.STRING;
    default:
      throw new TypeError(`unknown GGUF value type ${type}`);
  }
}

function writeValue(sink: ByteSink, entry: GgufWriteValue): void {
  if (entry.type === "array") {
    sink.u32(scalarTypeId(entry.itemType));
    sink.u64(entry.value.length);
    if (entry.itemType === "string") {
      for (const item of entry.value) sink.string(item);
    } else {
      const write = entry.itemType === "u32" ? sink.u32 : entry.itemType === "i32" ? sink.i32 : sink.f32;
      for (let i = 0; i < entry.value.length; i++) write.call(sink, entry.value[i] ?? 0);
    }
    return;
  }
  switch (entry.type) {
    case "u8":
      sink.u8(entry.value);
      break;
    case "i8":
      sink.i8(entry.value);
      break;
    case "u16":
      sink.u16(entry.value);
      break;
    case "i16":
      sink.i16(entry.value);
      break;
    case "u32":
      sink.u32(entry.value);
      break;
    case "i32":
      sink.i32(entry.value);
      break;
    case "f32":
      sink.f32(entry.value);
      break;
    case "f64":
      sink.f64(entry.value);
      break;
    case "u64":
      sink.u64(entry.value);
      break;
    case "i64":
      sink.i64(entry.value);
      break;
    case "bool":
      sink.u8(entry.value ? 1 : 0);
      break;
    case "string":
      sink.string(entry.value);
      break;
  }
}

/**
 * Serializes a GGUF v3 file: header, metadata, tensor infos, then tensor data, each tensor
 * starting on an `alignment` boundary (general.alignment, default 32).
 */
export function encodeGguf(
  metadata: ReadonlyArray<readonly [string, GgufWriteValue]>,
  tensors: readonly GgufTensorToWrite[],
): Uint8Array {
  const alignmentEntry = metadata.find(([key]) => key === "general.alignment")?.[1];
  const alignment = alignmentEntry && alignmentEntry.type === "u32" ? alignmentEntry.value : GGUF_DEFAULT_ALIGNMENT;

  const sink = new ByteSink();
  sink.u32(GGUF_MAGIC);
  sink.u32(GGUF_VERSION);
  sink.u64(tensors.length);
  sink.u64(metadata.length);

  for (const [key, entry] of metadata) {
    sink.string(key);
    sink.u32(entry.type === "array" ? GGUF_VALUE_TYPE.ARRAY : scalarTypeId(entry.type));
    writeValue(sink, entry);
  }

  let offset = 0;
  const offsets: number[] = [];
  for (const tensor of tensors) {
    offsets.push(offset);
    offset += tensor.data.length;
    offset += (alignment - (offset % alignment)) % alignment;
  }
  tensors.forEach((tensor, i) => {
    sink.string(tensor.name);
    sink.u32(tensor.dimensions.length);
    for (const d of tensor.dimensions) sink.u64(d);
    sink.u32(tensor.type);
    sink.u64(offsets[i] ?? 0);
  });

  sink.padTo(alignment);
  for (const tensor of tensors) {
    sink.bytes(tensor.data);
    sink.padTo(alignment);
  }
  return sink.toUint8Array();
}
