import { ConfigError, type ConfigIssue, type GenerateRequest, contentText } from "@orchestrator-ts/core";

/**
 * A sparse feature vector: `indices[k]` holds `values[k]` for `k < size`; every other entry is 0.
 * Extractors fill one in place and reuse its buffers, so selection does not allocate per request.
 */
export class SparseFeatures {
  indices: Int32Array;
  values: Float64Array;
  size = 0;

  constructor(capacity = 64) {
    this.indices = new Int32Array(capacity);
    this.values = new Float64Array(capacity);
  }

  clear(): this {
    this.size = 0;
    return this;
  }

  /** Appends one entry (the caller keeps indices unique), growing the buffers when needed. */
  push(index: number, value: number): void {
    if (this.size === this.indices.length) {
      const indices = new Int32Array(this.indices.length * 2);
      indices.set(this.indices);
      const values = new Float64Array(this.values.length * 2);
      values.set(this.values);
      this.indices = indices;
      this.values = values;
    }
    this.indices[this.size] = index;
    this.values[this.size] = value;
    this.size++;
  }

  /** A dense vector as sparse features (zeros left out): for embeddings and other dense extractors. */
  static fromDense(vector: ArrayLike<number>, out = new SparseFeatures(vector.length)): SparseFeatures {
    out.clear();
    for (let i = 0; i < vector.length; i++) {
      const v = vector[i] as number;
      if (v !== 0) out.push(i, v);
    }
    return out;
  }

  /** A copy that owns its buffers (what a decision log or a training set keeps). */
  clone(): SparseFeatures {
    const copy = new SparseFeatures(Math.max(1, this.size));
    copy.indices.set(this.indices.subarray(0, this.size));
    copy.values.set(this.values.subarray(0, this.size));
    copy.size = this.size;
    return copy;
  }

  toJSON(): { i: number[]; v: number[] } {
    return { i: Array.from(this.indices.subarray(0, this.size)), v: Array.from(this.values.subarray(0, this.size)) };
  }

  static fromJSON(json: { i: readonly number[]; v: readonly number[] }): SparseFeatures {
    const out = new SparseFeatures(Math.max(1, json.i.length));
    for (let k = 0; k < json.i.length; k++) out.push(json.i[k] as number, json.v[k] ?? 0);
    return out;
  }
}

/** What an extractor reads: the request's text and task tag. */
export interface FeatureInput {
  text: string;
  task?: string | undefined;
}

/**
 * Turns a request into a fixed-size sparse vector. `extract` must be synchronous (it runs inside
 * selection) and should fill `out` in place. Plug in your own, e.g. a cached embedding lookup
 * (`SparseFeatures.fromDense(embedding, out)`).
 */
export interface FeatureExtractor {
  /** Size of the vector space: every index is in [0, dimensions). */
  readonly dimensions: number;
  extract(input: FeatureInput, out: SparseFeatures): SparseFeatures;
  /** Learned state (if any) for `ContextualSelector.save()`. */
  save?(): unknown;
  restore?(state: unknown): void;
}

/** The text a request's features are read from: its user messages, newest last, joined by newlines. */
export function requestText(request: GenerateRequest | undefined): string {
  if (!request) return "";
  const messages = request.messages;
  // The common case, one user message, allocates nothing.
  let only: string | undefined;
  let count = 0;
  for (const m of messages) {
    if (m.role !== "user") continue;
    count++;
    only = typeof m.content === "string" ? m.content : contentText(m.content);
  }
  if (count <= 1) return only ?? "";
  let text = "";
  for (const m of messages)
    if (m.role === "user")
      text += `${text ? "\n" : ""}${typeof m.content === "string" ? m.content : contentText(m.content)}`;
  return text;
}

export interface HashedNgramOptions {
  /** Size of the hashed space, bias and tags included. Default 1,024. */
  dimensions?: number;
  /** Word n-gram lengths. Default [1, 2]. `[]` for none. */
  wordNgrams?: readonly number[];
  /** Character n-gram lengths (over lower-cased text, whitespace collapsed). Default [3, 4]. `[]` for none. */
  charNgrams?: readonly number[];
  /**
   * Read only the last `tailChars` characters of the text. Prompts that share a long template or
   * few-shot prefix differ at their end; the prefix would otherwise fill most hashed buckets.
   * Default: the whole text.
   */
  tailChars?: number;
  /** Term weighting before L2 normalisation: raw counts, or 1 + ln(count). Default "log". */
  tf?: "count" | "log";
  /** Weight of the n-gram block (it is L2-normalised to this norm). Default 1. */
  ngramWeight?: number;
  /** Value of the task tag's one-hot feature. Default 1. */
  taskWeight?: number;
  /** Value of the length bucket's one-hot feature (buckets of log2 of the character count). Default 0.5. */
  lengthWeight?: number;
  /** Value of the always-on bias feature (index 0). Default 1. */
  biasWeight?: number;
}

// FNV-1a, 32 bits, fed one UTF-16 code unit at a time.
const FNV_OFFSET = 0x811c9dc5;
const FNV_PRIME = 0x01000193;
const WORD_SEED = 0x9e3779b9;
const TASK_SEED = 0x7f4a7c15;
const LENGTH_SEED = 0x2545f491;

function mix(h: number, x: number): number {
  return Math.imul(h ^ x, FNV_PRIME);
}

/** A final avalanche so nearby n-grams land in unrelated buckets (murmur3's fmix32). */
function finish(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

function isWordChar(c: number): boolean {
  return (c >= 48 && c <= 57) || (c >= 97 && c <= 122) || c === 95 || c >= 128;
}

/**
 * Hashed word and character n-grams of the prompt (the "hashing trick": a fixed-size vector with
 * no vocabulary to ship), L2-normalised, plus a bias, a length bucket and the task tag one-hot,
 * each hashed into the same space. Index 0 is reserved for the bias.
 *
 * Extraction reuses its own scratch buffers: one instance is not re-entrant, which is fine for
 * synchronous selection.
 */
export class HashedNgramExtractor implements FeatureExtractor {
  readonly dimensions: number;
  readonly wordNgrams: readonly number[];
  readonly charNgrams: readonly number[];
  readonly tailChars: number | undefined;
  readonly tf: "count" | "log";
  readonly ngramWeight: number;
  readonly taskWeight: number;
  readonly lengthWeight: number;
  readonly biasWeight: number;
  readonly #dense: Float64Array;
  readonly #touched: Int32Array;
  #count = 0;
  // The last few word hashes and characters, for n-grams that span them.
  readonly #words: Int32Array;
  readonly #chars: Int32Array;

  constructor(options: HashedNgramOptions = {}) {
    const issues: ConfigIssue[] = [];
    const dimensions = options.dimensions ?? 1024;
    if (!Number.isInteger(dimensions) || dimensions < 8)
      issues.push({ path: "dimensions", message: `must be an integer ≥ 8, got ${String(dimensions)}` });
    const wordNgrams = options.wordNgrams ?? [1, 2];
    const charNgrams = options.charNgrams ?? [3, 4];
    for (const [path, list] of [
      ["wordNgrams", wordNgrams],
      ["charNgrams", charNgrams],
    ] as const) {
      for (const n of list)
        if (!Number.isInteger(n) || n < 1 || n > 8)
          issues.push({ path, message: `n-gram lengths must be integers in [1, 8], got ${String(n)}` });
    }
    if (options.tailChars !== undefined && !(Number.isInteger(options.tailChars) && options.tailChars > 0))
      issues.push({ path: "tailChars", message: `must be a positive integer, got ${String(options.tailChars)}` });
    if (options.tf !== undefined && options.tf !== "count" && options.tf !== "log")
      issues.push({ path: "tf", message: `must be "count" or "log", got ${JSON.stringify(options.tf)}` });
    for (const key of ["ngramWeight", "taskWeight", "lengthWeight", "biasWeight"] as const) {
      const v = options[key];
      if (v !== undefined && !(Number.isFinite(v) && v >= 0))
        issues.push({ path: key, message: `must be a non-negative number, got ${String(v)}` });
    }
    if (issues.length > 0) throw new ConfigError(issues, { title: "Invalid HashedNgramExtractor options" });
    this.dimensions = dimensions;
    this.wordNgrams = [...wordNgrams];
    this.charNgrams = [...charNgrams];
    this.tailChars = options.tailChars;
    this.tf = options.tf ?? "log";
    this.ngramWeight = options.ngramWeight ?? 1;
    this.taskWeight = options.taskWeight ?? 1;
    this.lengthWeight = options.lengthWeight ?? 0.5;
    this.biasWeight = options.biasWeight ?? 1;
    this.#dense = new Float64Array(dimensions);
    this.#touched = new Int32Array(dimensions);
    this.#words = new Int32Array(Math.max(1, ...this.wordNgrams));
    this.#chars = new Int32Array(Math.max(1, ...this.charNgrams));
  }

  /** The options that rebuild this extractor (saved with a selector's state). */
  get options(): Required<Omit<HashedNgramOptions, "tailChars">> & { tailChars: number | undefined } {
    return {
      dimensions: this.dimensions,
      wordNgrams: this.wordNgrams,
      charNgrams: this.charNgrams,
      tailChars: this.tailChars,
      tf: this.tf,
      ngramWeight: this.ngramWeight,
      taskWeight: this.taskWeight,
      lengthWeight: this.lengthWeight,
      biasWeight: this.biasWeight,
    };
  }

  #bucket(h: number): number {
    // 1..dimensions-1: index 0 is the bias.
    return 1 + (finish(h) % (this.dimensions - 1));
  }

  #add(h: number): void {
    const i = this.#bucket(h);
    const dense = this.#dense;
    if (dense[i] === 0) this.#touched[this.#count++] = i;
    dense[i] = (dense[i] as number) + 1;
  }

  extract(input: FeatureInput, out: SparseFeatures): SparseFeatures {
    out.clear();
    const text = input.text;
    const start = this.tailChars !== undefined && text.length > this.tailChars ? text.length - this.tailChars : 0;
    this.#count = 0;
    const words = this.#words;
    const chars = this.#chars;
    const wordNs = this.wordNgrams;
    const charNs = this.charNgrams;
    const maxChar = chars.length;
    let wordCount = 0;
    let charCount = 0;
    let word = FNV_OFFSET;
    let inWord = false;
    let lastSpace = true;
    for (let p = start; p <= text.length; p++) {
      let c = p < text.length ? text.charCodeAt(p) : 32;
      if (c >= 65 && c <= 90) c += 32;
      const wordChar = isWordChar(c);
      if (wordChar) {
        word = mix(word, c);
        inWord = true;
      } else if (inWord) {
        // A word ended: its n-grams with the words before it.
        words.copyWithin(1, 0, words.length - 1);
        words[0] = word;
        wordCount++;
        for (const n of wordNs) {
          if (wordCount < n) continue;
          let h = WORD_SEED ^ n;
          for (let k = n - 1; k >= 0; k--) h = mix(h, words[k] as number);
          this.#add(h);
        }
        word = FNV_OFFSET;
        inWord = false;
      }
      if (charNs.length === 0 || p === text.length) continue;
      // Character n-grams over lower-cased text with whitespace runs collapsed to one space.
      const space = c === 32 || c === 10 || c === 13 || c === 9;
      if (space && lastSpace) continue;
      lastSpace = space;
      chars.copyWithin(1, 0, maxChar - 1);
      chars[0] = space ? 32 : c;
      charCount++;
      for (const n of charNs) {
        if (charCount < n) continue;
        let h = FNV_OFFSET ^ n;
        for (let k = n - 1; k >= 0; k--) h = mix(h, chars[k] as number);
        this.#add(h);
      }
    }
    // Weight and L2-normalise the n-gram block.
    const dense = this.#dense;
    const touched = this.#touched;
    let norm = 0;
    for (let k = 0; k < this.#count; k++) {
      const i = touched[k] as number;
      const count = dense[i] as number;
      const v = this.tf === "log" ? 1 + Math.log(count) : count;
      dense[i] = v;
      norm += v * v;
    }
    const scale = norm > 0 ? this.ngramWeight / Math.sqrt(norm) : 0;
    // The extra one-hots are added on top of the (normalised) n-gram values.
    if (this.biasWeight > 0) out.push(0, this.biasWeight);
    let lengthIndex = -1;
    let taskIndex = -1;
    if (this.lengthWeight > 0) lengthIndex = this.#bucket(LENGTH_SEED ^ Math.floor(Math.log2(1 + text.length - start)));
    if (this.taskWeight > 0 && input.task !== undefined) {
      let h = TASK_SEED;
      for (let p = 0; p < input.task.length; p++) h = mix(h, input.task.charCodeAt(p));
      taskIndex = this.#bucket(h);
    }
    for (let k = 0; k < this.#count; k++) {
      const i = touched[k] as number;
      let v = (dense[i] as number) * scale;
      if (i === lengthIndex) {
        v += this.lengthWeight;
        lengthIndex = -1;
      }
      if (i === taskIndex) {
        v += this.taskWeight;
        taskIndex = -1;
      }
      dense[i] = 0;
      if (scale > 0 || v !== 0) out.push(i, v);
    }
    if (lengthIndex >= 0) out.push(lengthIndex, this.lengthWeight);
    if (taskIndex >= 0 && taskIndex !== lengthIndex) out.push(taskIndex, this.taskWeight);
    else if (taskIndex >= 0) out.values[out.size - 1] = (out.values[out.size - 1] as number) + this.taskWeight;
    return out;
  }
}
