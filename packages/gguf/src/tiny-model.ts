import { createHash } from "node:crypto";
import { mkdir, rename, rm, writeFile } from "node:fs/promises";
import { dirname } from "node:path";
import { seededRandom } from "@orchestrator-ts/core";
import type { TinyGgufQuantization } from "./quantize";
import { QUANT_BLOCK_SIZE, encodeTensor, ggmlTypeOf } from "./quantize";
import type { GgufWriteValue } from "./types";
import { GGML_TYPE, GGUF_DEFAULT_ALIGNMENT, LLAMA_FILE_TYPE } from "./types";
import { encodeGguf } from "./writer";
import type { GgufTensorToWrite } from "./writer";
import { SPACE_PIECE, SPECIAL_TOKENS, TINY_CHAT_TEMPLATE, TOKEN_TYPE, buildVocabulary } from "./vocabulary";

// Deterministic weights across machines: only integer ops and exactly rounded float ops (no
// Math.log/Math.cos, whose last bits may differ between engines).

/** FNV-1a 32-bit hash of a string: an independent stream per tensor. */
function hashString(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/** Uniform weights in [-amplitude, amplitude). */
type Weights = (amplitude: number) => number;

/** The weights of one tensor: core's seeded PRNG on a stream of its own, cut to 24 bits (exact in float32). */
function weightsFor(seed: number, label: string): Weights {
  const random = seededRandom(Math.imul(seed >>> 0, 0x9e3779b1) ^ hashString(label));
  return (amplitude) => ((Math.floor(random() * 16_777_216) / 16_777_216) * 2 - 1) * amplitude;
}

/** The tiny model's shape, quantization and seed (same options, same bytes). */
export interface TinyGgufOptions {
  /** Encoding of the 2-D weights; norm weights always stay F32. Default "q8_0". */
  quantization?: TinyGgufQuantization;
  /** PRNG seed for the weights: the same options always give a byte-identical file. Default 1. */
  seed?: number;
  /** Transformer blocks. Default 2. */
  layers?: number;
  /** Hidden size; a multiple of 32 (the quantization block) and of `heads`. Default 64. */
  embeddingLength?: number;
  /** Attention heads. Default 4 (head size 16). */
  heads?: number;
  /** Key/value heads (grouped-query attention); must divide `heads`. Default 2. */
  headsKv?: number;
  /** FFN hidden size; a multiple of 32. Default 2 × embeddingLength. */
  feedForwardLength?: number;
  /** Trained context length written to llama.context_length. Default 512. */
  contextLength?: number;
  /** general.name. Default "tiny-llama-<quantization>". */
  name?: string;
}

/** The ids of the tiny model's special tokens. */
export interface TinyGgufTokenIds {
  bos: number;
  eos: number;
  unk: number;
  padding: number;
}

/** What was written: size, SHA-256, shapes, token ids and the chat template. */
export interface TinyGgufInfo {
  /** Where the file was written (writeTinyGguf only). */
  path?: string;
  sizeBytes: number;
  /** Hex SHA-256 of the file: equal options give an equal hash. */
  sha256: string;
  name: string;
  architecture: "llama";
  quantization: TinyGgufQuantization;
  /** general.file_type (llama_ftype): F32=0, F16=1, Q4_0=2, Q8_0=7. */
  fileType: number;
  seed: number;
  layers: number;
  embeddingLength: number;
  heads: number;
  headsKv: number;
  feedForwardLength: number;
  contextLength: number;
  vocabularySize: number;
  tensorCount: number;
  tokenIds: TinyGgufTokenIds;
  chatTemplate: string;
}

type ResolvedOptions = Required<TinyGgufOptions>;

/*
 * Weight design, so that random weights still give sane, varied text:
 * - Dimension 0 of every token embedding is a constant (EMBEDDING_ANCHOR) and no block writes to it
 *   (row 0 of attn_output and ffn_down is zero), so after the final RMS norm it is a steady positive
 *   feature. Column 0 of output.weight then acts as a per-token logit bias: 0 for ordinary pieces,
 *   strongly negative for control tokens (EOS, BOS, chat markers) so generations run to maxTokens,
 *   negative for byte tokens, slightly negative for pieces that glue onto the previous one, and
 *   slightly positive for whole space-led words, so the text reads as words.
 * - Other weights are uniform with variance about 1/fan_in; the residual branches are damped.
 */
const EMBEDDING_ANCHOR = 3;
const CONTROL_BIAS = -6;
const BYTE_BIAS = -5;
const WORD_BIAS = 1.5;
const GLUE_BIAS = -1.5;
const OUTPUT_AMPLITUDE = 0.35;

function resolveOptions(options: TinyGgufOptions): ResolvedOptions {
  const quantization = options.quantization ?? "q8_0";
  const embeddingLength = options.embeddingLength ?? 64;
  const resolved: ResolvedOptions = {
    quantization,
    seed: options.seed ?? 1,
    layers: options.layers ?? 2,
    embeddingLength,
    heads: options.heads ?? 4,
    headsKv: options.headsKv ?? 2,
    feedForwardLength: options.feedForwardLength ?? embeddingLength * 2,
    contextLength: options.contextLength ?? 512,
    name: options.name ?? `tiny-llama-${quantization}`,
  };

  if (!["f32", "f16", "q8_0", "q4_0"].includes(resolved.quantization)) {
    throw new RangeError(`quantization must be f32, f16, q8_0 or q4_0, got ${String(resolved.quantization)}`);
  }
  const positiveInt = (key: keyof ResolvedOptions, value: number): void => {
    if (!Number.isSafeInteger(value) || value <= 0)
      throw new RangeError(`${key} must be a positive integer, got ${value}`);
  };
  positiveInt("layers", resolved.layers);
  positiveInt("embeddingLength", resolved.embeddingLength);
  positiveInt("heads", resolved.heads);
  positiveInt("headsKv", resolved.headsKv);
  positiveInt("feedForwardLength", resolved.feedForwardLength);
  positiveInt("contextLength", resolved.contextLength);
  if (!Number.isSafeInteger(resolved.seed)) throw new RangeError(`seed must be an integer, got ${resolved.seed}`);
  // Rows of every 2-D weight (ne[0]) are embeddingLength or feedForwardLength long; quantized rows
  // must be whole blocks. Kept for f32/f16 too so every quantization accepts the same shapes.
  if (resolved.embeddingLength % QUANT_BLOCK_SIZE !== 0) {
    throw new RangeError(`embeddingLength must be a multiple of ${QUANT_BLOCK_SIZE}, got ${resolved.embeddingLength}`);
  }
  if (resolved.feedForwardLength % QUANT_BLOCK_SIZE !== 0) {
    throw new RangeError(
      `feedForwardLength must be a multiple of ${QUANT_BLOCK_SIZE}, got ${resolved.feedForwardLength}`,
    );
  }
  if (resolved.embeddingLength % resolved.heads !== 0) {
    throw new RangeError(
      `embeddingLength (${resolved.embeddingLength}) must be divisible by heads (${resolved.heads})`,
    );
  }
  if ((resolved.embeddingLength / resolved.heads) % 2 !== 0) {
    throw new RangeError("the head size (embeddingLength / heads) must be even for RoPE");
  }
  if (resolved.heads % resolved.headsKv !== 0) {
    throw new RangeError(`heads (${resolved.heads}) must be a multiple of headsKv (${resolved.headsKv})`);
  }
  return resolved;
}

interface BuiltModel {
  bytes: Uint8Array;
  info: Omit<TinyGgufInfo, "path" | "sizeBytes" | "sha256">;
}

function build(options: TinyGgufOptions): BuiltModel {
  const o = resolveOptions(options);
  const vocab = buildVocabulary();
  const nVocab = vocab.tokens.length;
  const nEmbd = o.embeddingLength;
  const headSize = nEmbd / o.heads;
  const nEmbdKv = headSize * o.headsKv;
  const nFf = o.feedForwardLength;
  const weightType = ggmlTypeOf(o.quantization);
  const fileType = LLAMA_FILE_TYPE[o.quantization];

  const tensors: GgufTensorToWrite[] = [];
  const matrix = (
    name: string,
    rowLength: number,
    rows: number,
    fill: (values: Float32Array, rng: Weights) => void,
  ): void => {
    const values = new Float32Array(rowLength * rows);
    fill(values, weightsFor(o.seed, name));
    tensors.push({ name, dimensions: [rowLength, rows], type: weightType, data: encodeTensor(o.quantization, values) });
  };
  const uniform = (amplitude: number) => (values: Float32Array, rng: Weights) => {
    for (let i = 0; i < values.length; i++) values[i] = rng(amplitude);
  };
  const norm = (name: string): void => {
    const values = new Float32Array(nEmbd).fill(1);
    tensors.push({ name, dimensions: [nEmbd], type: GGML_TYPE.F32, data: encodeTensor("f32", values) });
  };
  // uniform(-a, a) has variance a²/3; a = sqrt(3 / fanIn) gives variance 1/fanIn.
  const amplitudeFor = (fanIn: number, gain = 1): number => gain * Math.sqrt(3 / fanIn);
  const zeroRowZero =
    (fill: (values: Float32Array, rng: Weights) => void, rowLength: number) => (values: Float32Array, rng: Weights) => {
      fill(values, rng);
      values.fill(0, 0, rowLength); // output row 0 feeds residual dimension 0: keep the anchor intact
    };

  matrix("token_embd.weight", nEmbd, nVocab, (values, rng) => {
    for (let t = 0; t < nVocab; t++) {
      values[t * nEmbd] = EMBEDDING_ANCHOR;
      for (let j = 1; j < nEmbd; j++) values[t * nEmbd + j] = rng(Math.sqrt(3));
    }
  });

  for (let layer = 0; layer < o.layers; layer++) {
    const p = `blk.${layer}`;
    norm(`${p}.attn_norm.weight`);
    matrix(`${p}.attn_q.weight`, nEmbd, nEmbd, uniform(amplitudeFor(nEmbd)));
    matrix(`${p}.attn_k.weight`, nEmbd, nEmbdKv, uniform(amplitudeFor(nEmbd)));
    matrix(`${p}.attn_v.weight`, nEmbd, nEmbdKv, uniform(amplitudeFor(nEmbd)));
    matrix(`${p}.attn_output.weight`, nEmbd, nEmbd, zeroRowZero(uniform(amplitudeFor(nEmbd, 0.5)), nEmbd));
    norm(`${p}.ffn_norm.weight`);
    matrix(`${p}.ffn_gate.weight`, nEmbd, nFf, uniform(amplitudeFor(nEmbd)));
    matrix(`${p}.ffn_up.weight`, nEmbd, nFf, uniform(amplitudeFor(nEmbd)));
    matrix(`${p}.ffn_down.weight`, nFf, nEmbd, zeroRowZero(uniform(amplitudeFor(nFf, 0.5)), nFf));
  }

  norm("output_norm.weight");
  matrix("output.weight", nEmbd, nVocab, (values, rng) => {
    for (let t = 0; t < nVocab; t++) {
      const type = vocab.types[t];
      // After the final norm dimension 0 is ≈ EMBEDDING_ANCHOR / rms(h) ≈ 2.5; divide so the bias lands in logit units.
      const bias =
        type === TOKEN_TYPE.BYTE
          ? BYTE_BIAS
          : type !== TOKEN_TYPE.NORMAL
            ? CONTROL_BIAS
            : vocab.wordTokens.has(t)
              ? WORD_BIAS
              : vocab.tokens[t]?.startsWith(SPACE_PIECE)
                ? 0
                : GLUE_BIAS;
      values[t * nEmbd] = bias / 2.5;
      for (let j = 1; j < nEmbd; j++) values[t * nEmbd + j] = rng(OUTPUT_AMPLITUDE);
    }
  });

  const u32 = (value: number): GgufWriteValue => ({ type: "u32", value });
  const f32 = (value: number): GgufWriteValue => ({ type: "f32", value });
  const str = (value: string): GgufWriteValue => ({ type: "string", value });
  const tokenIds: TinyGgufTokenIds = {
    bos: SPECIAL_TOKENS.bos.id,
    eos: SPECIAL_TOKENS.eos.id,
    unk: SPECIAL_TOKENS.unk.id,
    padding: SPECIAL_TOKENS.unk.id,
  };
  const metadata: Array<[string, GgufWriteValue]> = [
    ["general.architecture", str("llama")],
    ["general.name", str(o.name)],
    ["general.alignment", u32(GGUF_DEFAULT_ALIGNMENT)],
    ["general.file_type", u32(fileType)],
    ["llama.context_length", u32(o.contextLength)],
    ["llama.embedding_length", u32(nEmbd)],
    ["llama.block_count", u32(o.layers)],
    ["llama.feed_forward_length", u32(nFf)],
    ["llama.attention.head_count", u32(o.heads)],
    ["llama.attention.head_count_kv", u32(o.headsKv)],
    ["llama.rope.dimension_count", u32(headSize)],
    ["llama.rope.freq_base", f32(10000)],
    ["llama.attention.layer_norm_rms_epsilon", f32(1e-5)],
    ["llama.vocab_size", u32(nVocab)],
    ["tokenizer.ggml.model", str("llama")],
    ["tokenizer.ggml.tokens", { type: "array", itemType: "string", value: vocab.tokens }],
    ["tokenizer.ggml.scores", { type: "array", itemType: "f32", value: vocab.scores }],
    ["tokenizer.ggml.token_type", { type: "array", itemType: "i32", value: vocab.types }],
    ["tokenizer.ggml.bos_token_id", u32(tokenIds.bos)],
    ["tokenizer.ggml.eos_token_id", u32(tokenIds.eos)],
    ["tokenizer.ggml.unknown_token_id", u32(tokenIds.unk)],
    ["tokenizer.ggml.padding_token_id", u32(tokenIds.padding)],
    ["tokenizer.ggml.add_bos_token", { type: "bool", value: true }],
    ["tokenizer.ggml.add_eos_token", { type: "bool", value: false }],
    // Off, unlike Llama 2: otherwise llama.cpp prefixes "▁" to every text run after a special token,
    // so "<|assistant|>\n" would be evaluated as "<|assistant|>▁\n".
    ["tokenizer.ggml.add_space_prefix", { type: "bool", value: false }],
    ["tokenizer.chat_template", str(TINY_CHAT_TEMPLATE)],
  ];

  const bytes = encodeGguf(metadata, tensors);
  return {
    bytes,
    info: {
      name: o.name,
      architecture: "llama",
      quantization: o.quantization,
      fileType,
      seed: o.seed,
      layers: o.layers,
      embeddingLength: nEmbd,
      heads: o.heads,
      headsKv: o.headsKv,
      feedForwardLength: nFf,
      contextLength: o.contextLength,
      vocabularySize: nVocab,
      tensorCount: tensors.length,
      tokenIds,
      chatTemplate: TINY_CHAT_TEMPLATE,
    },
  };
}

/** Builds a tiny llama-architecture GGUF in memory. Deterministic: equal options give equal bytes. */
export function buildTinyGguf(options: TinyGgufOptions = {}): Uint8Array {
  return build(options).bytes;
}

/** Builds the model and describes it (size, hash, shapes, token ids) without touching the disk. */
export function buildTinyGgufWithInfo(options: TinyGgufOptions = {}): { bytes: Uint8Array; info: TinyGgufInfo } {
  const { bytes, info } = build(options);
  return {
    bytes,
    info: { ...info, sizeBytes: bytes.length, sha256: createHash("sha256").update(bytes).digest("hex") },
  };
}

let tempCounter = 0;

/**
 * Writes a tiny GGUF to `filePath` (parent directories are created). The file appears atomically
 * (temp file + rename), so concurrent writers and readers never see a half-written model.
 */
export async function writeTinyGguf(filePath: string, options: TinyGgufOptions = {}): Promise<TinyGgufInfo> {
  const { bytes, info } = buildTinyGgufWithInfo(options);
  await mkdir(dirname(filePath), { recursive: true });
  const temp = `${filePath}.${process.pid}.${tempCounter++}.tmp`;
  try {
    await writeFile(temp, bytes);
    await rename(temp, filePath);
  } catch (error) {
    await rm(temp, { force: true });
    throw error;
  }
  return { ...info, path: filePath };
}
