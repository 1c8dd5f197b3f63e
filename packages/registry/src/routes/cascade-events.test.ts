// A cascade reports its stages as `cascade` events and tags its stage calls' `call` events, so
// tracing and dashboards can show which stages ran, what each model answered and why it escalated.
import type { GenerateRequest } from "@orchestrator-ts/core";
import { FakeModel } from "@orchestrator-ts/testing";
import { describe, expect, it } from "vitest";
import type { CallEvent, CascadeStageEvent } from "../events";
import { ModelRegistry } from "../registry";
import { CascadeRoute, extractors } from "./index";

/** Each model answers the letter the prompt assigns it: "yi=A mixtral=B gpt-4=C". */
function letterModel(name: string, costUsd: number): FakeModel {
  return new FakeModel({
    name,
    costUsd,
    response: (request: GenerateRequest) => {
      const m = new RegExp(`${name.replace(/[-]/g, "\\-")}=(\\S+)`).exec(String(request.messages.at(-1)?.content));
      return m ? `The answer is ${m[1]}.` : "I am not sure.";
    },
  });
}

function setup() {
  const registry = new ModelRegistry({ maxRetries: 0 });
  for (const [name, cost] of [
    ["yi", 0.001],
    ["mixtral", 0.002],
    ["gpt-4", 0.01],
  ] as const)
    registry.registerModel(letterModel(name, cost));
  registry.addRoute(
    new CascadeRoute({
      name: "mcq",
      stages: [{ models: ["yi", "mixtral"], parallel: true }, { models: ["gpt-4"] }],
      extract: extractors.choiceLetter,
    }),
  );
  const seen: (["call", CallEvent] | ["cascade", CascadeStageEvent])[] = [];
  registry.on("call", (e) => seen.push(["call", e]));
  registry.on("cascade", (e) => seen.push(["cascade", e]));
  return { registry, seen };
}

const q = (content: string) => ({ messages: [{ role: "user" as const, content }], route: "mcq" });

const summary = (seen: ReturnType<typeof setup>["seen"]) =>
  seen.map(([kind, e]) =>
    kind === "call"
      ? `call ${e.cascade?.stage ?? "-"}`
      : `${e.phase} ${e.stage}${e.phase === "end" ? ` ${e.decision} ${e.answers.map((a) => `${a.model}=${String(a.answer)}`).join(",")} agreeing=${e.agreeing}` : ""}`,
  );

describe("cascade events", () => {
  it("report each stage's start and decision, and tag the stage calls with the cascade and stage", async () => {
    const { registry, seen } = setup();
    const pending = registry.generate(q("yi=A mixtral=B gpt-4=C"));
    // The first stage starts inside generate() itself, in the caller's context (tracing ties it to the call).
    expect(seen[0]?.[0]).toBe("cascade");
    const r = await pending;
    expect(summary(seen)).toEqual([
      "start 0",
      "call 0",
      "call 0",
      "end 0 escalated yi=A,mixtral=B agreeing=1",
      "start 1",
      "call 1",
      "end 1 accepted gpt-4=C agreeing=1",
    ]);
    const events = seen.filter((s): s is ["cascade", CascadeStageEvent] => s[0] === "cascade").map((s) => s[1]);
    const ids = new Set(events.map((e) => e.cascadeId));
    expect(ids.size).toBe(1);
    expect(events[0]).toMatchObject({ route: "mcq", models: ["yi", "mixtral"], parallel: true, final: false });
    const calls = seen.filter((s): s is ["call", CallEvent] => s[0] === "call").map((s) => s[1]);
    expect(calls.every((c) => c.cascade?.cascadeId === events[0]?.cascadeId)).toBe(true);
    // The end reports carry each model's result: what tracing records for the stage's calls.
    const end0 = events[1] as CascadeStageEvent;
    expect(end0.results.map((x) => x?.text)).toEqual(["The answer is A.", "The answer is B."]);
    expect(end0.results.map((x) => x?.selectionId)).toEqual(end0.answers.map((a) => a.selectionId));
    expect(r.cascade?.stages).toEqual([0, 1]);
  });

  it("a streamed cascade reports its streamed final stage once the stream is over", async () => {
    const { registry, seen } = setup();
    let text = "";
    for await (const chunk of registry.stream(q("yi=A mixtral=B gpt-4=D")))
      if (chunk.type === "text") text += chunk.text;
    expect(text).toBe("The answer is D.");
    expect(summary(seen)).toEqual([
      "start 0",
      "call 0",
      "call 0",
      "end 0 escalated yi=A,mixtral=B agreeing=1",
      "start 1",
      "call 1",
      "end 1 final gpt-4=D agreeing=1",
    ]);
    const last = seen.at(-1)?.[1] as CascadeStageEvent;
    expect(last.results[0]).toMatchObject({ model: "gpt-4", costUsd: 0.01 });
  });

  it("an accepted first stage ends the cascade; without a cascade listener stage calls stay unannounced", async () => {
    const { registry, seen } = setup();
    await registry.generate(q("yi=B mixtral=B"));
    expect(summary(seen)).toEqual(["start 0", "call 0", "call 0", "end 0 accepted yi=B,mixtral=B agreeing=2"]);
    const quiet = new ModelRegistry({ maxRetries: 0 });
    quiet.registerModel(letterModel("yi", 0.001));
    quiet.registerModel(letterModel("mixtral", 0.002));
    quiet.addRoute(
      new CascadeRoute({ name: "mcq", stages: [{ models: ["yi", "mixtral"] }], extract: extractors.choiceLetter }),
    );
    const calls: CallEvent[] = [];
    quiet.on("call", (e) => calls.push(e));
    await quiet.generate(q("yi=B mixtral=B"));
    expect(calls).toEqual([]);
  });
});
