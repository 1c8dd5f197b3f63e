import { type RunFixtureOptions, runFixture as run } from "@orchestrator-ts/testing";
import { fileURLToPath } from "node:url";

/** Run one of this package's fixtures (test/fixtures/<name>.ts) in its own Node process. */
export function runFixture(name: string, args: string[], options: RunFixtureOptions = {}): Promise<unknown[]> {
  return run(fileURLToPath(new URL(`./fixtures/${name}.ts`, import.meta.url)), args, options);
}
