import { fileURLToPath } from "node:url";
import { runScript } from "@orchestrator-ts/testing";
import { describe, expect, it } from "vitest";

// A finished stream's objects should die young. What a server streams at once is then freed by
// minor GCs, which cost what survives them; anything moved into the old generation is copied there
// and waits for a full GC. The stream `registry.stream` hands back once carried its facts
// (selectionId, explanation, …) as getters of an object literal: V8 holds such getters through
// accessor pairs made in the old generation, so each stream's whole graph, its answer included,
// survived every minor GC until a full one: ~4.5 KB moved per stream of an 8.3 KB answer here,
// ~0.6 KB since. Measured from V8's own GC trace, in a process of its own.

const runner = fileURLToPath(new URL("../test/old-generation.ts", import.meta.url));

describe("registry.stream and V8's old generation", () => {
  it("a finished stream's answer is not moved there", { timeout: 120_000 }, async () => {
    const run = await runScript({ file: runner }, { timeoutMs: 100_000 });
    expect(run.code, run.stderr).toBe(0);
    const measured = run.stdout.slice(run.stdout.indexOf("measuring\n"));
    const [, streams, chunks, answer] = /streams (\d+) chunks (\d+) answer (\d+)/.exec(measured) ?? [];
    expect(streams, run.stdout.slice(-500)).toBeDefined();
    expect(Number(chunks)).toBeGreaterThan(40 * Number(streams)); // every answer was streamed in its chunks
    // Each minor GC's line says how many bytes it moved into the old generation ("promoted=…").
    expect([...measured.matchAll(/\bgc=s\b/g)].length, "minor GCs ran while streaming").toBeGreaterThan(5);
    const promoted = [...measured.matchAll(/\bpromoted=(\d+)/g)].reduce((sum, m) => sum + Number(m[1]), 0);
    // A quarter of the answer: the old shape read ~4.5 KB here, above it by far; the class ~0.6 KB.
    expect(promoted / Number(streams)).toBeLessThan(Number(answer) / 4);
  });
});
