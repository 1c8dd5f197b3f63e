// docs/troubleshooting.md, "No model fits".
import { ModelRegistry } from "@orchestrator-ts/registry";
import { FakeModel } from "@orchestrator-ts/testing";
import { errorLine } from "./error-line";

const registry = new ModelRegistry();
registry.registerModel(new FakeModel({ name: "gpt-4o-mini" }));
registry.registerModel(
  new FakeModel({ name: "local", capabilities: { vision: true, inputCostPerToken: 1e-5, outputCostPerToken: 1e-5 } }),
);
try {
  registry.selectModel({ capabilities: ["vision"], maxCost: 0.01 });
} catch (error) {
  console.log(errorLine(error));
}
