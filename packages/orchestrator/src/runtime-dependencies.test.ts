import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { runScript } from "@orchestrator-ts/testing";
import { describe, expect, it } from "vitest";

const PACKAGE = resolve(__dirname, "..");

describe("what orchestrator-ts needs at run time", () => {
  it("not the test kit: @orchestrator-ts/testing is a devDependency only", () => {
    const pkg = JSON.parse(readFileSync(join(PACKAGE, "package.json"), "utf8")) as {
      dependencies: Record<string, string>;
      devDependencies?: Record<string, string>;
    };
    expect(Object.keys(pkg.dependencies)).not.toContain("@orchestrator-ts/testing");
    expect(pkg.dependencies["@orchestrator-ts/gguf"]).toBeDefined();
  });

  it("writes the demo's model files and builds the orchestrator in a process where @orchestrator-ts/testing cannot be loaded", {
    timeout: 60_000,
  }, async () => {
    const dir = mkdtempSync(join(tmpdir(), "orchestrator-runtime-"));
    try {
      // A resolve hook that refuses the test kit: any import of it, direct or through a dependency, fails the run.
      const hook = join(dir, "no-testing.mjs");
      writeFileSync(
        hook,
        `export async function resolve(specifier, context, next) {
  if (specifier === "@orchestrator-ts/testing" || specifier.startsWith("@orchestrator-ts/testing/")) throw new Error("@orchestrator-ts/testing was loaded at run time by " + context.parentURL);
  return next(specifier, context);
}
`,
      );
      const register = join(dir, "register.mjs");
      writeFileSync(
        register,
        `import { register } from "node:module";\nregister(${JSON.stringify(`file://${hook}`)});\n`,
      );
      const models = join(dir, "models");
      // The demo's path: the embedded default writes the local models, then the registry is built from it.
      const script = `
import { createOrchestrator } from "orchestrator-ts";
const orchestrator = await createOrchestrator({ env: { ORCHESTRATOR_HOME: ${JSON.stringify(dir)} }, startHealthMonitor: false });
console.log("models", orchestrator.registry.listModels().map((m) => m.name).join(","));
await orchestrator.close();
`;
      const run = await runScript({ script }, { cwd: PACKAGE, nodeArgs: ["--import", register], timeoutMs: 50_000 });
      expect(run.timedOut).toBe(false);
      expect(run.stderr).not.toMatch(/@orchestrator-ts\/testing was loaded/);
      expect(run.code, run.stderr).toBe(0);
      expect(run.stdout).toMatch(/^models tiny-q4,tiny-q8,tiny-f16/m);
      for (const m of ["tiny-q4_0.gguf", "tiny-q8_0.gguf", "tiny-f16.gguf"])
        expect(existsSync(join(models, m))).toBe(true);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
