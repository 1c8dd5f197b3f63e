// A minimal RESP2 client for test setup: one command on a fresh loopback connection, no client library.
import { connect } from "node:net";

export type RespValue = string | number | null | RespValue[] | RespError;

/** An error reply (`-ERR …`). */
export class RespError extends Error {}

/** Parses one RESP2 value at `offset`; `undefined` while the buffer holds only part of it. */
function parse(text: string, offset: number): { value: RespValue; end: number } | undefined {
  const lineEnd = text.indexOf("\r\n", offset);
  if (lineEnd < 0) return undefined;
  const type = text[offset];
  const line = text.slice(offset + 1, lineEnd);
  const next = lineEnd + 2;
  switch (type) {
    case "+":
      return { value: line, end: next };
    case "-":
      return { value: new RespError(line), end: next };
    case ":":
      return { value: Number(line), end: next };
    case "$": {
      const length = Number(line);
      if (length < 0) return { value: null, end: next };
      // Lengths are in bytes: the tests only read ASCII replies (CLUSTER NODES, INFO, addresses).
      if (text.length < next + length + 2) return undefined;
      return { value: text.slice(next, next + length), end: next + length + 2 };
    }
    case "*": {
      const count = Number(line);
      if (count < 0) return { value: null, end: next };
      const items: RespValue[] = [];
      let at = next;
      for (let i = 0; i < count; i++) {
        const item = parse(text, at);
        if (!item) return undefined;
        items.push(item.value);
        at = item.end;
      }
      return { value: items, end: at };
    }
    default:
      throw new Error(`unexpected RESP reply: ${JSON.stringify(text.slice(offset, offset + 40))}`);
  }
}

function encode(args: readonly (string | number)[]): string {
  let out = `*${args.length}\r\n`;
  for (const arg of args) {
    const s = String(arg);
    out += `$${Buffer.byteLength(s)}\r\n${s}\r\n`;
  }
  return out;
}

/**
 * Sends `args` to the server on `port` (AUTH first with `password`) and resolves with the reply;
 * rejects with `RespError` on an error reply, or when nothing complete arrives within `timeoutMs`.
 */
export function respCommand(
  port: number,
  args: readonly (string | number)[],
  options: { password?: string; timeoutMs?: number } = {},
): Promise<RespValue> {
  return new Promise((resolve, reject) => {
    const socket = connect({ port, host: "127.0.0.1" });
    let buffer = "";
    let settled = false;
    const expected = options.password ? 2 : 1;
    const finish = (error: Error | undefined, value?: RespValue) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      if (error) reject(error);
      else resolve(value ?? null);
    };
    const timer = setTimeout(
      () =>
        finish(new Error(`no reply to ${String(args[0])} from port ${port} within ${options.timeoutMs ?? 2_000} ms`)),
      options.timeoutMs ?? 2_000,
    );
    socket.on("error", (error) => finish(error));
    socket.on("connect", () =>
      socket.write((options.password ? encode(["AUTH", options.password]) : "") + encode(args)),
    );
    socket.on("data", (data) => {
      buffer += data.toString("latin1");
      const values: RespValue[] = [];
      let at = 0;
      for (;;) {
        const parsed = parse(buffer, at);
        if (!parsed) break;
        values.push(parsed.value);
        at = parsed.end;
      }
      if (values.length < expected) return;
      const reply = values[expected - 1] as RespValue;
      if (reply instanceof RespError) finish(reply);
      else if (expected === 2 && values[0] instanceof RespError) finish(values[0]);
      else finish(undefined, reply);
    });
  });
}
