import { createHash } from "node:crypto";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  GgufFormatError,
  buildTinyGguf,
  buildTinyGgufWithInfo,
  parseGgufHeader,
  readGgufHeader,
  readGgufHeaderSync,
  writeTinyGguf,
} from "./index";
import type { TinyGgufQuantization } from "./index";

let dir = "";
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "tiny-gguf-reader-"));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const sha = (bytes: Uint8Array): string => createHash("sha256").update(bytes).digest("hex");

describe("tiny GGUF layout", () => {
  it.each<[TinyGgufQuantization, number, number]>([
    ["f32", 0, 0],
    ["f16", 1, 1],
    ["q8_0", 7, 8],
    ["q4_0", 2, 2],
  ])("%s: header, metadata and tensor infos", async (quantization, fileType, ggmlType) => {
    const path = join(dir, `${quantization}.gguf`);
    const info = await writeTinyGguf(path, { quantization, seed: 3 });
    const header = await readGgufHeader(path);

    expect(header.version).toBe(3);
    expect(header.tensorCount).toBe(3 + 9 * 2);
    expect(header.tensorCount).toBe(info.tensorCount);
    expect(header.fileSize).toBe(info.sizeBytes);
    expect(header.alignment).toBe(32);
    expect(header.dataOffset % 32).toBe(0);
    const m = header.metadata;
    expect(m.get("general.architecture")).toBe("llama");
    expect(m.get("general.name")).toBe(`tiny-llama-${quantization}`);
    expect(m.get("general.file_type")).toBe(fileType);
    expect(info.fileType).toBe(fileType);
    expect(m.get("llama.embedding_length")).toBe(64);
    expect(m.get("llama.block_count")).toBe(2);
    expect(m.get("llama.context_length")).toBe(512);
    expect(m.get("llama.rope.dimension_count")).toBe(16);
    expect(m.get("tokenizer.ggml.model")).toBe("llama");
    const tokens = m.get("tokenizer.ggml.tokens");
    const types = m.get("tokenizer.ggml.token_type");
    expect(Array.isArray(tokens) && tokens.length).toBe(info.vocabularySize);
    expect(Array.isArray(types) && types.length).toBe(info.vocabularySize);
    if (!Array.isArray(tokens) || !Array.isArray(types)) throw new Error("arrays expected");
    expect(tokens.slice(0, 3)).toEqual(["<unk>", "<s>", "</s>"]);
    expect(tokens[3 + 0x0a]).toBe("<0x0A>");
    expect(types[3 + 0x0a]).toBe(6);
    expect(tokens).toContain("\u2581the");
    expect(m.get("tokenizer.ggml.eos_token_id")).toBe(2);
    expect(String(m.get("tokenizer.chat_template"))).toContain("<|assistant|>");

    const byName = new Map(header.tensors.map((t) => [t.name, t]));
    expect(byName.get("token_embd.weight")?.dimensions).toEqual([64, info.vocabularySize]);
    expect(byName.get("token_embd.weight")?.type).toBe(ggmlType);
    expect(byName.get("output_norm.weight")).toMatchObject({ dimensions: [64], type: 0 });
    expect(byName.get("blk.1.attn_k.weight")?.dimensions).toEqual([64, 32]); // 2 kv heads × 16
    expect(byName.get("blk.1.ffn_down.weight")?.dimensions).toEqual([128, 64]);
    expect(byName.get("blk.0.ffn_norm.weight")?.type).toBe(0);
    for (const tensor of header.tensors) expect(tensor.offset % 32n).toBe(0n);
  });

  it("is byte-identical for the same options and differs for another seed", () => {
    const a = buildTinyGguf({ quantization: "q4_0", seed: 11 });
    const b = buildTinyGguf({ quantization: "q4_0", seed: 11 });
    const c = buildTinyGguf({ quantization: "q4_0", seed: 12 });
    expect(sha(a)).toBe(sha(b));
    expect(sha(a)).not.toBe(sha(c));
    expect(a.length).toBe(c.length);
  });

  it("produces the recorded bytes for the default options (on every machine)", () => {
    // Pinned so a change of format or weights is deliberate; users may cache models by this hash.
    // Update these when the generator is changed on purpose.
    expect(buildTinyGgufWithInfo({ quantization: "f32" }).info.sha256).toBe(
      "1efdf514f8bc82350a231154d0f6f809b01078ee5f56c5417cdd3381297e523e",
    );
    expect(buildTinyGgufWithInfo({ quantization: "f16" }).info.sha256).toBe(
      "90e02f19db2b0fcd0b2a3a107e939f137f4362639a419a50dad7fb607151671f",
    );
    expect(buildTinyGgufWithInfo().info.sha256).toBe(
      "5b647a92f2ab6336847a7cec82d525609969425f62a4d12ea8931fd7662c65e2",
    );
    expect(buildTinyGgufWithInfo({ quantization: "q4_0" }).info.sha256).toBe(
      "9b8cc2d8ca9ec385f67324551b7300c1df711ac12d7ee10c77b7242268ee5008",
    );
  });

  it("writes the same bytes as it builds, and reports their hash", async () => {
    const path = join(dir, "same.gguf");
    const info = await writeTinyGguf(path, { seed: 5, name: "custom" });
    const onDisk = new Uint8Array(await readFile(path));
    expect(sha(onDisk)).toBe(info.sha256);
    expect(sha(onDisk)).toBe(sha(buildTinyGguf({ seed: 5, name: "custom" })));
    expect((await readGgufHeader(onDisk)).metadata.get("general.name")).toBe("custom");
  });

  it("honours shape options", () => {
    const header = parseGgufHeader(
      buildTinyGguf({
        quantization: "f16",
        layers: 1,
        embeddingLength: 96,
        heads: 6,
        headsKv: 3,
        feedForwardLength: 160,
        contextLength: 256,
      }),
    );
    expect(header.tensorCount).toBe(12);
    expect(header.metadata.get("llama.attention.head_count")).toBe(6);
    expect(header.metadata.get("llama.attention.head_count_kv")).toBe(3);
    expect(header.metadata.get("llama.context_length")).toBe(256);
    expect(header.tensors.find((t) => t.name === "blk.0.attn_v.weight")?.dimensions).toEqual([96, 48]);
  });

  it("rejects impossible shapes up front", () => {
    expect(() => buildTinyGguf({ embeddingLength: 48 })).toThrow(/multiple of 32/);
    expect(() => buildTinyGguf({ heads: 4, headsKv: 3 })).toThrow(/headsKv/);
    expect(() => buildTinyGguf({ feedForwardLength: 100 })).toThrow(/feedForwardLength/);
    expect(() => buildTinyGguf({ layers: 0 })).toThrow(RangeError);
  });
});

describe("readGgufHeader on damaged files", () => {
  const bytes = buildTinyGguf({ quantization: "q8_0" });

  it("reports a file cut inside the tensor data", async () => {
    const path = join(dir, "cut-data.gguf");
    await writeFile(path, bytes.subarray(0, bytes.length - 1000));
    await expect(readGgufHeader(path)).rejects.toThrow(GgufFormatError);
    await expect(readGgufHeader(path)).rejects.toThrow(/truncated/);
    // Without the data check the header itself still parses.
    expect((await readGgufHeader(path, { verifyTensorData: false })).tensorCount).toBe(21);
  });

  it("reports a file cut inside the header", async () => {
    const path = join(dir, "cut-header.gguf");
    await writeFile(path, bytes.subarray(0, 2000));
    await expect(readGgufHeader(path)).rejects.toMatchObject({ code: "GGUF_FORMAT_ERROR" });
    expect(() => parseGgufHeader(bytes.subarray(0, 10))).toThrow(/truncated/);
  });

  it("reports a file that is not GGUF", () => {
    expect(() => parseGgufHeader(new TextEncoder().encode("PK\u0003\u0004 not a model"))).toThrow(/bad magic/);
  });

  it.each<[string, (b: Uint8Array) => Uint8Array, string, RegExp]>([
    [
      "cut inside the tensor data",
      (b) => b.subarray(0, b.length - 1000),
      "truncated",
      /^\S+cut\.gguf is truncated: tensor data beyond end of file \(\S+ needs \d+ bytes, the file has \d+\)$/,
    ],
    [
      "cut inside the header",
      (b) => b.subarray(0, 5000),
      "truncated",
      /cut\.gguf is truncated: the header ends past the end of the file \(5000 bytes\)$/,
    ],
    [
      "not GGUF",
      () => new TextEncoder().encode("hello, I am not a model"),
      "not-gguf",
      /cut\.gguf is not a GGUF file \(bad magic\)$/,
    ],
    ["empty", () => new Uint8Array(0), "not-gguf", /cut\.gguf is not a GGUF file \(only 0 bytes\)$/],
    [
      "of a future version",
      (b) => Uint8Array.from([...b.subarray(0, 4), 4, 0, 0, 0, ...b.subarray(8)]),
      "unsupported",
      /unsupported GGUF version \(4\)/,
    ],
  ])(
    "a file %s: the same typed error, naming the file, from the sync and the async reader",
    async (_what, damage, problem, message) => {
      const path = join(dir, "cut.gguf");
      await writeFile(path, damage(bytes));
      const sync = (() => {
        try {
          readGgufHeaderSync(path);
        } catch (e) {
          return e;
        }
      })();
      expect(sync).toBeInstanceOf(GgufFormatError);
      expect(sync).toMatchObject({ problem, code: "GGUF_FORMAT_ERROR" });
      expect((sync as Error).message).toMatch(message);
      await expect(readGgufHeader(path)).rejects.toMatchObject({ problem, message: (sync as Error).message });
    },
  );

  it("arrays: skip reads the scalars without decoding the vocabulary", async () => {
    const path = join(dir, "skip.gguf");
    await writeFile(path, bytes);
    const full = readGgufHeaderSync(path);
    const skipped = readGgufHeaderSync(path, { arrays: "skip" });
    expect(skipped.metadata.get("tokenizer.ggml.tokens")).toEqual([]);
    expect((full.metadata.get("tokenizer.ggml.tokens") as unknown[]).length).toBeGreaterThan(256);
    expect(skipped.metadata.get("llama.context_length")).toBe(512);
    expect(skipped.tensors).toEqual(full.tensors);
    expect(skipped.dataOffset).toBe(full.dataOffset);
  });
});
