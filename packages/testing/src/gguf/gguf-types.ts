/** GGUF metadata value types (gguf_type in ggml's gguf.h). */
export const GGUF_VALUE_TYPE = {
  UINT8: 0,
  INT8: 1,
  UINT16: 2,
  INT16: 3,
  UINT32: 4,
  INT32: 5,
  FLOAT32: 6,
  BOOL: 7,
  STRING: 8,
  ARRAY: 9,
  UINT64: 10,
  INT64: 11,
  FLOAT64: 12,
} as const;

export type GgufValueType = (typeof GGUF_VALUE_TYPE)[keyof typeof GGUF_VALUE_TYPE];

/** "GGUF" read as a little-endian uint32. */
export const GGUF_MAGIC = 0x46554747;
export const GGUF_VERSION = 3;
export const GGUF_DEFAULT_ALIGNMENT = 32;

/** A decoded metadata value: 64-bit integers are bigints so nothing is silently rounded. */
export type GgufMetadataValue = string | number | bigint | boolean | GgufMetadataValue[];

/** A metadata value to write, tagged with its GGUF type. */
export type GgufWriteValue =
  | { type: "u8" | "i8" | "u16" | "i16" | "u32" | "i32" | "f32" | "f64"; value: number }
  | { type: "u64" | "i64"; value: bigint }
  | { type: "bool"; value: boolean }
  | { type: "string"; value: string }
  | { type: "array"; itemType: "u32" | "i32" | "f32"; value: ArrayLike<number> }
  | { type: "array"; itemType: "string"; value: readonly string[] };

export interface GgufTensorInfo {
  name: string;
  /** Dimensions in GGUF order: ne[0] is the row length (contiguous). */
  dimensions: number[];
  /** ggml_type id. */
  type: number;
  /** Offset from the start of the tensor data section. */
  offset: bigint;
}
