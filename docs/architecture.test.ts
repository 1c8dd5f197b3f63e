import { existsSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { describe, expect, it } from "vitest";

// docs/architecture.md walks a request through the code by file name: it stays true only if every
// file and folder it names exists. A rename that forgets the page fails here.
const ROOT = resolve(import.meta.dirname, "..");
const PAGE = join(ROOT, "docs/architecture.md");

/** Every repository path the page names in backticks (`packages/…`, `tools/…`, `docs/…`, `examples/…`). */
function namedPaths(markdown: string): string[] {
  const paths = new Set<string>();
  for (const m of markdown.matchAll(/`((?:packages|tools|docs|examples)\/[^`\s]*)`/g)) paths.add(m[1] as string);
  return [...paths];
}

describe("docs/architecture.md", () => {
  const paths = namedPaths(readFileSync(PAGE, "utf8"));

  it("names the files of the request path", () => {
    // The walk-through must keep naming the files it walks through, not only folders.
    expect(paths.length).toBeGreaterThan(40);
    for (const hop of [
      "packages/registry/src/registry.ts",
      "packages/registry/src/call-state.ts",
      "packages/registry/src/eligibility.ts",
      "packages/core/src/model.ts",
      "packages/cache/src/model-cache.ts",
      "packages/registry/src/outcomes.ts",
    ]) {
      expect(paths).toContain(hop);
    }
  });

  it("every file and folder it names exists", () => {
    const missing = paths.filter((p) => !existsSync(join(ROOT, p)));
    expect(missing, `named in docs/architecture.md but not in the repository: ${missing.join(", ")}`).toEqual([]);
  });

  it("the check would see a stale name", () => {
    const stale = namedPaths("the front is `packages/registry/src/registry-front.ts`, see `docs/nowhere.md`");
    expect(stale.filter((p) => !existsSync(join(ROOT, p)))).toEqual([
      "packages/registry/src/registry-front.ts",
      "docs/nowhere.md",
    ]);
  });
});
