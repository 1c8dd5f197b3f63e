// Built-in answer extractors for cascades: `extract(text) → answer | undefined`. An answer that
// cannot be read is `undefined`, which a cascade counts as disagreement. Each reads at most
// `MAX_SCAN` characters, so a hostile or runaway answer costs bounded time.

/** Characters of an answer an extractor reads (answers to compare are short; the rest is ignored). */
export const MAX_SCAN = 64 * 1024;

/** Reads an answer out of a model's text; `undefined` when there is none. */
export type Extractor = (text: string) => unknown;

function head(text: unknown): string | undefined {
  if (typeof text !== "string") return undefined;
  return text.length > MAX_SCAN ? text.slice(0, MAX_SCAN) : text;
}

const LETTER_CACHE = new Map<string, Extractor>();

/**
 * The first standalone option letter among `letters` (`"ABCD"`), upper case: `"B"` in
 * `"B) Paris"`, `"The answer is (C)."` → `"C"`. A letter inside a word does not count; the
 * lower-case article "a" does not count either (only capitals are options).
 */
export function choice(letters = "ABCD"): Extractor {
  const cached = LETTER_CACHE.get(letters);
  if (cached) return cached;
  if (!/^[A-Z]{1,26}$/.test(letters))
    throw new RangeError(`choice(letters): letters must be 1–26 capital letters A–Z, got ${JSON.stringify(letters)}`);
  const re = new RegExp(`(?<![A-Za-z0-9_])([${letters}])(?![A-Za-z0-9_])`);
  const extract: Extractor = (text) => {
    const t = head(text);
    if (t === undefined) return undefined;
    return re.exec(t)?.[1];
  };
  LETTER_CACHE.set(letters, extract);
  return extract;
}

const NUMBER = /[-+]?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?(?:[eE][-+]?\d+)?/g;

function numbers(text: unknown, last: boolean): number | undefined {
  const t = head(text);
  if (t === undefined) return undefined;
  let found: string | undefined;
  NUMBER.lastIndex = 0;
  for (let m = NUMBER.exec(t); m !== null; m = NUMBER.exec(t)) {
    found = m[0];
    if (!last) break;
  }
  NUMBER.lastIndex = 0;
  if (found === undefined) return undefined;
  const value = Number(found.replace(/,/g, ""));
  return Number.isFinite(value) ? value : undefined;
}

/** The last number in the text (a worked answer ends with its result: `"… so 12 × 3 = 36"` → 36). Thousands separators are read. */
export const lastNumber: Extractor = (text) => numbers(text, true);
/** The first number in the text. */
export const firstNumber: Extractor = (text) => numbers(text, false);

/** The first JSON object or array in the text: a ```json fence, else from the first `{`/`[` to its matching close. */
export function firstJson(text: unknown): unknown {
  const t = head(text);
  if (t === undefined) return undefined;
  const fence = /```(?:json)?\s*\n([\s\S]*?)```/.exec(t);
  if (fence) {
    try {
      return JSON.parse(fence[1] as string);
    } catch {
      // Not JSON inside the fence: look for an object in the text.
    }
  }
  const start = t.search(/[{[]/);
  if (start < 0) return undefined;
  // Scan to the matching bracket (strings respected), then parse just that span.
  let depth = 0;
  let inString = false;
  for (let i = start; i < t.length; i++) {
    const c = t.charCodeAt(i);
    if (inString) {
      if (c === 92) i++;
      else if (c === 34) inString = false;
    } else if (c === 34) inString = true;
    else if (c === 123 || c === 91) depth++;
    else if (c === 125 || c === 93) {
      depth--;
      if (depth === 0) {
        try {
          return JSON.parse(t.slice(start, i + 1));
        } catch {
          return undefined;
        }
      }
    }
  }
  return undefined;
}

/**
 * The value at `path` (`"answer"`, `"result.label"`, `"items.0"`) of the first JSON object in
 * the text; `undefined` when the text holds no JSON or the field is missing.
 */
export function jsonField(path: string): Extractor {
  if (typeof path !== "string" || path.length === 0)
    throw new RangeError('jsonField(path): path must be a non-empty string such as "answer" or "result.label"');
  const keys = path.split(".");
  return (text) => {
    let value: unknown = firstJson(text);
    for (const key of keys) {
      if (value === null || typeof value !== "object" || !Object.hasOwn(value, key)) return undefined;
      value = (value as Record<string, unknown>)[key];
    }
    return value;
  };
}

/** The built-in extractors, by the names YAML and policy files use (`extract: choice`). */
export const extractors = {
  /** A–D option letters (`choice("ABCD")`). */
  choiceLetter: choice("ABCD"),
  choice,
  /** The last number in the text. */
  number: lastNumber,
  lastNumber,
  firstNumber,
  jsonField,
  /** The whole text, trimmed: for short exact answers. */
  text: ((text) => (typeof text === "string" ? head(text)?.trim() || undefined : undefined)) as Extractor,
} as const;

/**
 * An extractor from its name in a config or policy file: `choice` (A–D), `choice:AB`,
 * `number`, `first-number`, `json:<path>`, `text`. `undefined` for an unknown name.
 */
export function extractorByName(name: string): Extractor | undefined {
  if (name === "choice" || name === "choice-letter") return extractors.choiceLetter;
  if (name.startsWith("choice:")) {
    const letters = name.slice(7);
    return /^[A-Z]{1,26}$/.test(letters) ? choice(letters) : undefined;
  }
  if (name === "number" || name === "last-number") return lastNumber;
  if (name === "first-number") return firstNumber;
  if (name.startsWith("json:") && name.length > 5) return jsonField(name.slice(5));
  if (name === "text") return extractors.text;
  return undefined;
}

/** The names `extractorByName` knows, for error messages. */
export const EXTRACTOR_NAMES = "choice, choice:<LETTERS>, number, first-number, json:<field.path>, text";
