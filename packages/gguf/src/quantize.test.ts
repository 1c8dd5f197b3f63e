import { describe, expect, it } from "vitest";
import { float16BitsToFloat32 } from "./fp16";
import { decodeTensor, encodeTensor, encodedSize, quantizeQ4_0, quantizeQ8_0 } from "./quantize";
import type { TinyGgufQuantization } from "./quantize";
import { seededRandom } from "@orchestrator-ts/core";

function ramp(n: number, scale = 1): Float32Array {
  return Float32Array.from({ length: n }, (_, i) => (i - n / 2) * scale);
}

describe("quantization", () => {
  it("lays out Q8_0 as fp16 scale + 32 int8", () => {
    const values = ramp(32, 0.5); // -8 .. 7.5
    const bytes = quantizeQ8_0(values);
    expect(bytes.length).toBe(34);
    const d = float16BitsToFloat32((bytes[0] ?? 0) | ((bytes[1] ?? 0) << 8));
    expect(d).toBeCloseTo(8 / 127, 4);
    expect(new Int8Array(bytes.buffer, 2, 32)[0]).toBe(-127);
  });

  it("lays out Q4_0 with the first 16 values in low nibbles and the last 16 in high nibbles", () => {
    const values = new Float32Array(32);
    values[0] = -8; // the extreme value: d = -8 / -8 = 1, nibble 0
    values[1] = 3; // nibble 11
    values[16] = 7; // nibble 15, high nibble of byte 0
    values[17] = -1; // nibble 7, high nibble of byte 1
    const bytes = quantizeQ4_0(values);
    expect(bytes.length).toBe(18);
    expect(float16BitsToFloat32((bytes[0] ?? 0) | ((bytes[1] ?? 0) << 8))).toBe(1);
    expect(bytes[2]).toBe(0x00 | (15 << 4));
    expect(bytes[3]).toBe(11 | (7 << 4));
    expect(bytes[4]).toBe(8 | (8 << 4)); // zeros are nibble 8
    expect(Array.from(decodeTensor("q4_0", bytes, 32).subarray(0, 2))).toEqual([-8, 3]);
  });

  it.each<[TinyGgufQuantization, number]>([
    ["f32", 1e-7],
    ["f16", 1e-3],
    ["q8_0", 0.01],
    ["q4_0", 0.15],
  ])("round-trips %s within its precision", (quantization, tolerance) => {
    const random = seededRandom(7);
    const values = Float32Array.from({ length: 256 }, () => random() * 2 - 1);
    const bytes = encodeTensor(quantization, values);
    expect(bytes.length).toBe(encodedSize(quantization, values.length));
    const decoded = decodeTensor(quantization, bytes, values.length);
    let maxError = 0;
    values.forEach((v, i) => {
      maxError = Math.max(maxError, Math.abs(v - (decoded[i] ?? Number.NaN)));
    });
    expect(maxError).toBeLessThan(tolerance);
  });

  it("rejects quantized tensors that are not whole blocks", () => {
    expect(() => quantizeQ8_0(new Float32Array(40))).toThrow(RangeError);
  });
});
