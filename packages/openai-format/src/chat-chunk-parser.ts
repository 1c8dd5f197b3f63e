import type { ChatCompletionChunkLike } from "./stream";

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const FIRST_PRINTABLE = 0x20;

/**
 * A parser for one chat-completions stream's events, for `SSEJsonStream`'s `parser` option: what
 * `ChatStreamDecoder` reads of each event is what it would read of `JSON.parse`'s result, but a
 * text delta is mostly not parsed at all.
 *
 * A server writes a stream's text deltas as one template: the same `id`, `created`, `model` and
 * the rest, byte for byte, around a different `content` string. The first text delta is parsed in
 * full, and the text around its content becomes the template (checked by parsing a probe in its
 * place, so the template's gap is that delta's `content` and nothing else). A later event that is
 * the template with a gap holding no quote, backslash or control character (so no escape: the
 * characters are the string's) is that same event with this text: it is handed on as
 * `{ choices: [{ delta: { content } }] }`, all the decoder reads of such an event (the template
 * carries no usage, no finish reason, one choice, a delta with only `content`). Anything else —
 * another shape, an escape, a field that changes per event (OpenAI's `obfuscation`) — is parsed
 * in full, exactly as before, and may become the next template.
 */
export function chatChunkParser(): (data: string) => unknown {
  let prefix: string | undefined;
  let suffix = "";
  return (data) => {
    if (prefix !== undefined && data.length >= prefix.length + suffix.length) {
      const end = data.length - suffix.length;
      if (data.startsWith(prefix) && data.endsWith(suffix)) {
        let plain = true;
        for (let i = prefix.length; i < end; i++) {
          const c = data.charCodeAt(i);
          if (c === QUOTE || c === BACKSLASH || c < FIRST_PRINTABLE) {
            plain = false;
            break;
          }
        }
        if (plain) return { choices: [{ delta: { content: data.slice(prefix.length, end) } }] };
      }
    }
    const parsed: unknown = JSON.parse(data);
    const content = textOnly(parsed);
    if (content !== undefined) {
      const template = templateOf(data, content);
      if (template !== undefined) {
        prefix = template.prefix;
        suffix = template.suffix;
      }
    }
    return parsed;
  };
}

/** The `content` of an event that carries nothing else the decoder reads, else undefined. */
function textOnly(parsed: unknown): string | undefined {
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) return undefined;
  const chunk = parsed as ChatCompletionChunkLike & { error?: unknown };
  if (chunk.error !== undefined || chunk.usage != null) return undefined;
  const choices = chunk.choices;
  if (!Array.isArray(choices) || choices.length !== 1) return undefined;
  const choice = choices[0];
  if (typeof choice !== "object" || choice === null || choice.finish_reason != null) return undefined;
  const delta = choice.delta as Record<string, unknown> | null | undefined;
  if (typeof delta !== "object" || delta === null) return undefined;
  const keys = Object.keys(delta);
  if (keys.length !== 1 || keys[0] !== "content" || typeof delta.content !== "string") return undefined;
  return delta.content;
}

/**
 * The text before and after `content`'s characters in `data`, when `content` needs no escape,
 * appears there once as `"content":"…"`, and a probe put in its place parses as that delta's
 * content (so the gap is the delta's, not another key's with the same value).
 */
function templateOf(data: string, content: string): { prefix: string; suffix: string } | undefined {
  const literal = JSON.stringify(content);
  if (literal.length !== content.length + 2) return undefined;
  const needle = `"content":${literal}`;
  const at = data.indexOf(needle);
  if (at < 0 || data.indexOf(needle, at + 1) >= 0) return undefined;
  const prefix = data.slice(0, at + needle.length - literal.length + 1);
  const suffix = data.slice(at + needle.length - 1);
  const probe = `${content}~probe`;
  try {
    if (textOnly(JSON.parse(prefix + probe + suffix)) !== probe) return undefined;
  } catch {
    return undefined;
  }
  return { prefix, suffix };
}
