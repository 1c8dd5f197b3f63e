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

/** A GGUF metadata value type code (one of `GGUF_VALUE_TYPE`). */
export type GgufValueType = (typeof GGUF_VALUE_TYPE)[keyof typeof GGUF_VALUE_TYPE];

/** Bytes of a fixed-size metadata value, by value type (0 for strings and arrays). */
export const GGUF_VALUE_SIZE: readonly number[] = [1, 1, 2, 2, 4, 4, 4, 1, 0, 0, 8, 8, 8];

/** "GGUF" read as a little-endian uint32. */
export const GGUF_MAGIC = 0x46554747;
/** The GGUF version the writer produces (the reader also takes 2). */
export const GGUF_VERSION = 3;
/** Tensor data alignment in bytes when `general.alignment` is absent. */
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

/** One tensor of the header: name, dimensions, ggml type and data offset. */
export interface GgufTensorInfo {
  name: string;
  /** Dimensions in GGUF order: ne[0] is the row length (contiguous). */
  dimensions: number[];
  /** ggml_type id. */
  type: number;
  /** Offset from the start of the tensor data section. */
  offset: bigint;
}

/** The ggml tensor types this package writes (ids as stored in GGUF tensor infos). */
export const GGML_TYPE = { F32: 0, F16: 1, Q4_0: 2, Q8_0: 8 } as const;

/** A ggml tensor type: its llama.cpp name and how its data is laid out (values per block, bytes per block). */
export interface GgmlTypeInfo {
  name: string;
  blockSize: number;
  blockBytes: number;
}

const t = (name: string, blockSize: number, blockBytes: number): GgmlTypeInfo =>
  Object.freeze({ name, blockSize, blockBytes });

/** The ggml tensor types whose size is known, by id; others (IQ…, ternary) are only offset-checked. */
export const GGML_TYPES: Readonly<Record<number, GgmlTypeInfo>> = Object.freeze({
  0: t("F32", 1, 4),
  1: t("F16", 1, 2),
  2: t("Q4_0", 32, 18),
  3: t("Q4_1", 32, 20),
  6: t("Q5_0", 32, 22),
  7: t("Q5_1", 32, 24),
  8: t("Q8_0", 32, 34),
  9: t("Q8_1", 32, 36),
  10: t("Q2_K", 256, 84),
  11: t("Q3_K", 256, 110),
  12: t("Q4_K", 256, 144),
  13: t("Q5_K", 256, 176),
  14: t("Q6_K", 256, 210),
  15: t("Q8_K", 256, 292),
  24: t("I8", 1, 1),
  25: t("I16", 1, 2),
  26: t("I32", 1, 4),
  27: t("I64", 1, 8),
  28: t("F64", 1, 8),
  30: t("BF16", 1, 2),
});

/** Byte size of a tensor's data, or undefined for types this table does not know (or rows that are not whole blocks). */
export function ggmlTensorByteSize(type: number, dimensions: readonly number[]): number | undefined {
  const info = Object.hasOwn(GGML_TYPES, type) ? GGML_TYPES[type] : undefined;
  if (!info) return undefined;
  const rowLength = dimensions[0] ?? 1;
  if (rowLength % info.blockSize !== 0) return undefined;
  let rows = 1;
  for (let i = 1; i < dimensions.length; i++) rows *= dimensions[i] ?? 1;
  return (rowLength / info.blockSize) * info.blockBytes * rows;
}

/**
 * llama.cpp's file types (llama_ftype, `general.file_type`): "mostly" this type. The index is the
 * value; deprecated slots keep their place so that indices line up.
 */
export const LLAMA_FILE_TYPE_NAMES: readonly string[] = Object.freeze([
  "F32",
  "F16",
  "Q4_0",
  "Q4_1",
  "Q4_1_SOME_F16",
  "Q4_2",
  "Q4_3",
  "Q8_0",
  "Q5_0",
  "Q5_1",
  "Q2_K",
  "Q3_K_S",
  "Q3_K_M",
  "Q3_K_L",
  "Q4_K_S",
  "Q4_K_M",
  "Q5_K_S",
  "Q5_K_M",
  "Q6_K",
  "IQ2_XXS",
  "IQ2_XS",
  "Q2_K_S",
  "IQ3_XS",
  "IQ3_XXS",
  "IQ1_S",
  "IQ4_NL",
  "IQ3_S",
  "IQ3_M",
  "IQ2_S",
  "IQ2_M",
  "IQ4_XS",
  "IQ1_M",
  "BF16",
  "Q4_0_4_4",
  "Q4_0_4_8",
  "Q4_0_8_8",
  "TQ1_0",
  "TQ2_0",
  "MXFP4_MOE",
  "NVFP4",
]);

/** The `general.file_type` of the file types this package writes. */
export const LLAMA_FILE_TYPE = { f32: 0, f16: 1, q4_0: 2, q8_0: 7 } as const;
