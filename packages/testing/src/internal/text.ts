/**
 * Splits text into word chunks that keep their trailing whitespace, so that concatenating the
 * chunks gives back exactly the input ("a  b\n" -> ["a  ", "b\n"]).
 */
export function splitWordChunks(text: string): string[] {
  return text.match(/\S+\s*|\s+/g) ?? [];
}

/** Whitespace-separated word count: the loopback servers' stand-in for a tokenizer. */
export function countWords(text: string): number {
  const trimmed = text.trim();
  return trimmed === "" ? 0 : trimmed.split(/\s+/).length;
}

/** Splits a string into at most `parts` consecutive pieces (used for tool-argument deltas). */
export function splitIntoPieces(text: string, parts: number): string[] {
  if (text.length === 0) return [];
  const size = Math.max(1, Math.ceil(text.length / Math.max(1, parts)));
  const pieces: string[] = [];
  for (let i = 0; i < text.length; i += size) pieces.push(text.slice(i, i + size));
  return pieces;
}
