// Run by src/old-generation.test.ts in a process of its own:
//   node --import tsx test/old-generation.ts
// Streams answers through `registry.stream` and prints how many bytes V8's minor GCs moved into the
// old generation while it did (V8's own `--trace-gc-nvp` lines, switched on for the measured part).
import { setFlagsFromString } from "node:v8";
import { FakeModel } from "@orchestrator-ts/testing";
import { ModelRegistry } from "../src/index";

// Each answer is a new 8 KB string, as a provider's decoded response is: its chunks are slices of it,
// so whatever keeps a stream's objects alive keeps the whole answer alive.
const answer = () => Array.from({ length: 40 }, (_, i) => `word${i}-${"y".repeat(200)}`).join(" ");
const registry = new ModelRegistry();
registry.registerModel(new FakeModel({ name: "m", response: answer }));
const messages = [{ role: "user" as const, content: "hello" }];

async function streamOne(): Promise<number> {
  let chunks = 0;
  for await (const _ of registry.stream({ messages })) chunks++;
  return chunks;
}

for (let i = 0; i < 2000; i++) await streamOne();
const streams = 10_000;
let chunks = 0;
process.stdout.write("measuring\n");
setFlagsFromString("--trace-gc-nvp");
for (let i = 0; i < streams; i++) chunks += await streamOne();
setFlagsFromString("--no-trace-gc-nvp");
process.stdout.write(`streams ${streams} chunks ${chunks} answer ${answer().length}\n`);
