import { randomBytes } from "node:crypto";

// A random prefix per process and a counter: unique across a fleet, one string concat per answer.
const PREFIX = `chatcmpl-${randomBytes(6).toString("hex")}`;
let counter = 0;

export function nextCompletionId(): string {
  return `${PREFIX}${(++counter).toString(36)}`;
}

export function unixSeconds(): number {
  return Math.floor(Date.now() / 1000);
}

const MESSAGE_PREFIX = `msg_${randomBytes(6).toString("hex")}`;

/** An Anthropic message id (`msg_…`), unique across a fleet in the same way. */
export function nextMessageId(): string {
  return `${MESSAGE_PREFIX}${(++counter).toString(36)}`;
}

const RESPONSE_PREFIX = `resp_${randomBytes(6).toString("hex")}`;

/** A Responses API id (`resp_…`), unique across a fleet in the same way. */
export function nextResponseId(): string {
  return `${RESPONSE_PREFIX}${(++counter).toString(36)}`;
}
