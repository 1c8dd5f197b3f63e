import { describe, expect, it } from "vitest";
import { parseCsv, parseCsvObjects } from "./csv";

describe("parseCsv (RFC 4180)", () => {
  it("handles quoted commas, newlines, doubled quotes and CRLF", () => {
    const text = 'id,prompt,score\r\n1,"[\'a, b\']",1.0\r\n2,"line one\nline ""two""",\n3,plain,0.0';
    expect(parseCsv(text)).toEqual([
      ["id", "prompt", "score"],
      ["1", "['a, b']", "1.0"],
      ["2", 'line one\nline "two"', ""],
      ["3", "plain", "0.0"],
    ]);
    expect(parseCsvObjects(text)[1]).toEqual({ id: "2", prompt: 'line one\nline "two"', score: "" });
    expect(() => parseCsv('a,"open')).toThrow(/inside a quoted field/);
  });
});
