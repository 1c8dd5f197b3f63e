import { float16BitsToFloat32, float32ToFloat16Bits } from "./fp16";
import { GGML_TYPE } from "./types";

/** The weight encodings this package writes. */
export type TinyGgufQuantization = "f32" | "f16" | "q8_0" | "q4_0";

/** Values per block of Q8_0 and Q4_0. */
export const QUANT_BLOCK_SIZE = 32;
const Q8_0_BLOCK_BYTES = 2 + QUANT_BLOCK_SIZE;
const Q4_0_BLOCK_BYTES = 2 + QUANT_BLOCK_SIZE / 2;

/** The ggml tensor type of an encoding. */
export function ggmlTypeOf(quantization: TinyGgufQuantization): number {
  switch (quantization) {
    case "f32":
      return GGML_TYPE.F32;
    case "f16":
      return GGML_TYPE.F16;
    case "q8_0":
      return GGML_TYPE.Q8_0;
    case "q4_0":
      return GGML_TYPE.Q4_0;
  }
}

/** Bytes taken by `count` values in the given encoding (count must be a block multiple when quantized). */
export function encodedSize(quantization: TinyGgufQuantization, count: number): number {
  switch (quantization) {
    case "f32":
      return count * 4;
    case "f16":
      return count * 2;
    case "q8_0":
      return (count / QUANT_BLOCK_SIZE) * Q8_0_BLOCK_BYTES;
    case "q4_0":
      return (count / QUANT_BLOCK_SIZE) * Q4_0_BLOCK_BYTES;
  }
}

/** Values as the bytes of a tensor in the given encoding (quantized tensors need whole blocks). */
export function encodeTensor(quantization: TinyGgufQuantization, values: Float32Array): Uint8Array {
  switch (quantization) {
    case "f32":
      return new Uint8Array(values.buffer.slice(values.byteOffset, values.byteOffset + values.byteLength));
    case "f16":
      return encodeF16(values);
    case "q8_0":
      return quantizeQ8_0(values);
    case "q4_0":
      return quantizeQ4_0(values);
  }
}

function encodeF16(values: Float32Array): Uint8Array {
  const out = new Uint8Array(values.length * 2);
  const view = new DataView(out.buffer);
  for (let i = 0; i < values.length; i++) view.setUint16(i * 2, float32ToFloat16Bits(values[i] ?? 0), true);
  return out;
}

function assertBlocks(values: Float32Array): number {
  if (values.length % QUANT_BLOCK_SIZE !== 0) {
    throw new RangeError(`quantized tensors need a multiple of ${QUANT_BLOCK_SIZE} values, got ${values.length}`);
  }
  return values.length / QUANT_BLOCK_SIZE;
}

/** Q8_0 as in ggml's quantize_row_q8_0_ref: d = amax / 127, q = round(x / d); block = fp16 d + 32 int8. */
export function quantizeQ8_0(values: Float32Array): Uint8Array {
  const blocks = assertBlocks(values);
  const out = new Uint8Array(blocks * Q8_0_BLOCK_BYTES);
  const view = new DataView(out.buffer);
  for (let b = 0; b < blocks; b++) {
    const base = b * QUANT_BLOCK_SIZE;
    let amax = 0;
    for (let j = 0; j < QUANT_BLOCK_SIZE; j++) amax = Math.max(amax, Math.abs(values[base + j] ?? 0));
    const d = Math.fround(amax / 127);
    const id = d !== 0 ? Math.fround(1 / d) : 0;
    const offset = b * Q8_0_BLOCK_BYTES;
    view.setUint16(offset, float32ToFloat16Bits(d), true);
    for (let j = 0; j < QUANT_BLOCK_SIZE; j++) {
      const x = Math.fround((values[base + j] ?? 0) * id);
      // roundf: half away from zero
      const q = Math.max(-128, Math.min(127, Math.sign(x) * Math.round(Math.abs(x))));
      view.setInt8(offset + 2 + j, q);
    }
  }
  return out;
}

/**
 * Q4_0 as in ggml's quantize_row_q4_0_ref: d = max / -8 where max is the signed value of largest
 * magnitude; nibble = min(15, trunc(x / d + 8.5)); byte j holds value j (low nibble) and value j + 16
 * (high nibble); decoding is (nibble - 8) * d.
 */
export function quantizeQ4_0(values: Float32Array): Uint8Array {
  const blocks = assertBlocks(values);
  const half = QUANT_BLOCK_SIZE / 2;
  const out = new Uint8Array(blocks * Q4_0_BLOCK_BYTES);
  const view = new DataView(out.buffer);
  for (let b = 0; b < blocks; b++) {
    const base = b * QUANT_BLOCK_SIZE;
    let amax = 0;
    let max = 0;
    for (let j = 0; j < QUANT_BLOCK_SIZE; j++) {
      const v = values[base + j] ?? 0;
      if (Math.abs(v) > amax) {
        amax = Math.abs(v);
        max = v;
      }
    }
    const d = Math.fround(max / -8);
    const id = d !== 0 ? Math.fround(1 / d) : 0;
    const offset = b * Q4_0_BLOCK_BYTES;
    view.setUint16(offset, float32ToFloat16Bits(d), true);
    for (let j = 0; j < half; j++) {
      const x0 = Math.fround((values[base + j] ?? 0) * id);
      const x1 = Math.fround((values[base + half + j] ?? 0) * id);
      const q0 = Math.min(15, Math.trunc(Math.fround(x0 + 8.5)));
      const q1 = Math.min(15, Math.trunc(Math.fround(x1 + 8.5)));
      out[offset + 2 + j] = (q0 & 0x0f) | ((q1 & 0x0f) << 4);
    }
  }
  return out;
}

/** Decodes a tensor back to float32 (for tests and for checking quantization error). */
export function decodeTensor(quantization: TinyGgufQuantization, bytes: Uint8Array, count: number): Float32Array {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out = new Float32Array(count);
  switch (quantization) {
    case "f32":
      for (let i = 0; i < count; i++) out[i] = view.getFloat32(i * 4, true);
      return out;
    case "f16":
      for (let i = 0; i < count; i++) out[i] = float16BitsToFloat32(view.getUint16(i * 2, true));
      return out;
    case "q8_0":
      for (let b = 0; b < count / QUANT_BLOCK_SIZE; b++) {
        const offset = b * Q8_0_BLOCK_BYTES;
        const d = float16BitsToFloat32(view.getUint16(offset, true));
        for (let j = 0; j < QUANT_BLOCK_SIZE; j++) out[b * QUANT_BLOCK_SIZE + j] = view.getInt8(offset + 2 + j) * d;
      }
      return out;
    case "q4_0": {
      const half = QUANT_BLOCK_SIZE / 2;
      for (let b = 0; b < count / QUANT_BLOCK_SIZE; b++) {
        const offset = b * Q4_0_BLOCK_BYTES;
        const d = float16BitsToFloat32(view.getUint16(offset, true));
        for (let j = 0; j < half; j++) {
          const byte = bytes[offset + 2 + j] ?? 0;
          out[b * QUANT_BLOCK_SIZE + j] = ((byte & 0x0f) - 8) * d;
          out[b * QUANT_BLOCK_SIZE + half + j] = ((byte >>> 4) - 8) * d;
        }
      }
      return out;
    }
  }
}
