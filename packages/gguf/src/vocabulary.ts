// A SentencePiece-style ("llama") vocabulary small enough to keep the model tiny, but with
// enough whole-word pieces that English text tokenizes into words, not only bytes.

/** llama_token_type values stored in tokenizer.ggml.token_type. */
export const TOKEN_TYPE = { NORMAL: 1, UNKNOWN: 2, CONTROL: 3, USER_DEFINED: 4, UNUSED: 5, BYTE: 6 } as const;

export const SPACE_PIECE = "\u2581"; // "▁", SentencePiece's visible space

export const SPECIAL_TOKENS = {
  unk: { id: 0, text: "<unk>" },
  bos: { id: 1, text: "<s>" },
  eos: { id: 2, text: "</s>" },
} as const;

/** Chat markers used by the embedded chat template; control tokens, so plain text never produces them. */
export const CHAT_MARKERS = ["<|system|>", "<|user|>", "<|assistant|>", "<|end|>"] as const;

const WORDS = [
  "the",
  "of",
  "and",
  "to",
  "in",
  "is",
  "it",
  "that",
  "for",
  "on",
  "with",
  "as",
  "was",
  "he",
  "she",
  "they",
  "we",
  "you",
  "this",
  "be",
  "at",
  "by",
  "not",
  "are",
  "from",
  "or",
  "have",
  "an",
  "but",
  "what",
  "all",
  "were",
  "when",
  "can",
  "there",
  "one",
  "two",
  "three",
  "model",
  "token",
  "hello",
  "world",
  "quick",
  "brown",
  "fox",
  "jumps",
  "over",
  "lazy",
  "dog",
  "cat",
  "sat",
  "mat",
  "tiny",
  "llama",
  "data",
  "time",
  "run",
  "test",
  "yes",
  "no",
  "explain",
  "quantum",
  "computing",
  "answer",
  "question",
  "good",
  "small",
  "fast",
  "local",
  "text",
];

export interface Vocabulary {
  tokens: string[];
  scores: Float32Array;
  types: Int32Array;
  /** Range [start, end) of the 256 <0xNN> byte tokens. */
  byteTokens: { start: number; end: number };
  /** Ids of the pieces that are whole space-led words ("▁the"), as opposed to prefixes ("▁th") or "the". */
  wordTokens: Set<number>;
}

function byteToken(byte: number): string {
  return `<0x${byte.toString(16).toUpperCase().padStart(2, "0")}>`;
}

export function buildVocabulary(): Vocabulary {
  const tokens: string[] = [];
  const types: number[] = [];
  const scores: number[] = [];
  const seen = new Set<string>();

  const add = (text: string, type: number, score: number): void => {
    if (seen.has(text)) return;
    seen.add(text);
    tokens.push(text);
    types.push(type);
    scores.push(score);
  };

  add(SPECIAL_TOKENS.unk.text, TOKEN_TYPE.UNKNOWN, 0);
  add(SPECIAL_TOKENS.bos.text, TOKEN_TYPE.CONTROL, 0);
  add(SPECIAL_TOKENS.eos.text, TOKEN_TYPE.CONTROL, 0);
  const byteStart = tokens.length;
  for (let b = 0; b < 256; b++) add(byteToken(b), TOKEN_TYPE.BYTE, 0);
  const byteEnd = tokens.length;
  for (const marker of CHAT_MARKERS) add(marker, TOKEN_TYPE.CONTROL, 0);

  // Normal pieces: SentencePiece scores are log-probabilities; the SPM merger prefers higher
  // scores, and every intermediate merge must itself be a piece, so each word brings all of
  // its "▁"-prefixes ("▁t", "▁th", "▁the"). Longer pieces score higher so whole words win.
  const pieces: string[] = [SPACE_PIECE];
  for (let c = 0x21; c < 0x7f; c++) pieces.push(String.fromCharCode(c));
  for (const word of WORDS) {
    for (let i = 1; i <= word.length; i++) pieces.push(SPACE_PIECE + word.slice(0, i));
  }
  // Unprefixed words too: with add_space_prefix off (see tiny-gguf.ts), text that starts a
  // message ("hello" right after "<|user|>\n") has no leading "▁".
  for (const word of WORDS) {
    for (let i = 2; i <= word.length; i++) pieces.push(word.slice(0, i));
  }
  pieces.forEach((piece, i) => {
    add(piece, TOKEN_TYPE.NORMAL, -1000 + [...piece].length * 100 - i * 0.001);
  });

  const wordTokens = new Set(WORDS.map((word) => tokens.indexOf(SPACE_PIECE + word)));
  return {
    wordTokens,
    tokens,
    scores: Float32Array.from(scores),
    types: Int32Array.from(types),
    byteTokens: { start: byteStart, end: byteEnd },
  };
}

/**
 * A Jinja chat template in the Phi-3 style, using only the control tokens above. It is not one of
 * the formats node-llama-cpp has a dedicated wrapper for, so it resolves to its Jinja wrapper and
 * demonstrably uses the template from the file.
 */
export const TINY_CHAT_TEMPLATE =
  "{{ bos_token }}{% for message in messages %}" +
  "{% if message['role'] == 'system' %}{{ '<|system|>\n' + message['content'] + '<|end|>\n' }}" +
  "{% elif message['role'] == 'user' %}{{ '<|user|>\n' + message['content'] + '<|end|>\n' }}" +
  "{% elif message['role'] == 'assistant' %}{{ '<|assistant|>\n' + message['content'] + '<|end|>\n' }}" +
  "{% endif %}{% endfor %}" +
  "{% if add_generation_prompt %}{{ '<|assistant|>\n' }}{% endif %}";
