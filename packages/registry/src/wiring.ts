// How a registry's parts are connected, built once by its constructor: selection (eligibility, the
// selector, health), the route table, outcomes (stats store, selector, health, events), the call
// loop that generate and stream both run, and the runner a cascade route calls through.
import type { HealthTracker, NormalizedRequirements } from "@orchestrator-ts/core";
import { CacheAffinity } from "./cache-affinity";
import type { CallLoop } from "./call-state";
import type { Emitter, RegistryEvents } from "./events";
import type { ResolvedOptions } from "./options";
import { Outcomes } from "./outcomes";
import { registryGenerate } from "./registry-generate";
import { registryStream } from "./registry-stream";
import { RouteTable } from "./route-table";
import type { CascadeRunner } from "./routes/live";
import { Selection } from "./selection";

const NO_REQUIREMENTS: NormalizedRequirements = Object.freeze({});

export interface RegistryParts {
  selection: Selection;
  routes: RouteTable;
  outcomes: Outcomes;
  loop: CallLoop;
  cascadeRunner: CascadeRunner;
}

export function wireRegistry(
  o: ResolvedOptions,
  health: HealthTracker,
  events: Emitter<RegistryEvents>,
): RegistryParts {
  const selection = new Selection({
    selector: o.selector,
    statsStore: o.statsStore,
    health,
    events,
    unhealthyPolicy: o.unhealthyPolicy,
    taskMinTrials: o.taskMinTrials,
    waitForCapacityMs: o.waitForCapacityMs,
  });
  const outcomes = new Outcomes({
    selection,
    statsStore: o.statsStore,
    health,
    events,
    feedbackCapacity: o.feedbackCapacity,
  });
  // With a registry-level cache: which model answered a request, so an identical request goes back to it.
  const affinity = o.cache ? new CacheAffinity(o.cache) : undefined;
  const loop: CallLoop = { selection, outcomes, events, affinity, options: o };
  // A cascade's stages are pinned registry calls: no requirements of their own.
  const cascadeRunner: CascadeRunner = {
    call: (request, callOptions, attempts) =>
      registryGenerate(loop, request, NO_REQUIREMENTS, undefined, callOptions, attempts),
    stream: (request, callOptions) => registryStream(loop, request, NO_REQUIREMENTS, undefined, callOptions),
    random: o.random,
    events,
  };
  return { selection, routes: new RouteTable(selection), outcomes, loop, cascadeRunner };
}
