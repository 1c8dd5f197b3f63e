import { describe, expect, it } from "vitest";
import type { GenerateRequest } from "./types";
import { withFields } from "./with-fields";

describe("withFields", () => {
  it("copies the object with the fields set and leaves the caller's object as it was", () => {
    const request: GenerateRequest = { messages: [{ role: "user", content: "hi" }], maxTokens: 5 };
    const signal = new AbortController().signal;
    const copy = withFields(request, { signal });
    expect(copy).not.toBe(request);
    expect(copy).toEqual({ messages: request.messages, maxTokens: 5, signal });
    expect(copy.messages).toBe(request.messages);
    expect("signal" in request).toBe(false);
  });

  it("gives what the spread gives: the same keys in the same order, later fields winning", () => {
    const object = { a: 1, b: 2, c: undefined as number | undefined };
    const fields = { b: 3, d: 4, c: 5 };
    const copy = withFields(object, fields);
    expect(copy).toEqual({ ...object, ...fields });
    expect(Object.keys(copy)).toEqual(Object.keys({ ...object, ...fields }));
    expect(JSON.stringify(copy)).toBe(JSON.stringify({ ...object, ...fields }));
  });

  it("an own __proto__ key (a client's JSON) stays a plain key, as in the spread: the copy's prototype is untouched", () => {
    const hostile = JSON.parse('{ "__proto__": { "polluted": true }, "a": 1 }') as { a: number };
    for (const copy of [withFields(hostile, { b: 2 }), withFields({ a: 1 }, hostile)]) {
      expect(Object.getPrototypeOf(copy)).toBe(Object.prototype);
      expect((copy as { polluted?: unknown }).polluted).toBeUndefined();
      expect(Object.keys(copy)).toContain("__proto__");
    }
    expect(Object.keys(withFields(hostile, { b: 2 }))).toEqual(Object.keys({ ...hostile, b: 2 }));
  });
});
