import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { trace } from "@opentelemetry/api";
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from "@opentelemetry/sdk-trace-base";
import { type OpenAIServer, runScript, startOpenAIServer } from "@orchestrator-ts/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createOrchestrator, parseModelConfig } from "./index";

const KEY = "sk-telemetry-test-0123456789";
let server: OpenAIServer;
beforeAll(async () => {
  server = await startOpenAIServer({ apiKey: KEY });
});
afterAll(async () => {
  await server.close();
});

const yaml = (telemetry: string) => `models:
  - name: mini
    provider: openai
    config: { api_key: ${KEY}, base_url: "${server.baseURL}", model: gpt-4o-mini }
health: { enabled: false }
${telemetry}`;

describe("telemetry from YAML", () => {
  it("telemetry: { enabled: true, capture_content: true } traces every call with the global tracer provider; telemetry: false turns it off", async () => {
    const exporter = new InMemorySpanExporter();
    trace.setGlobalTracerProvider(new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] }));
    try {
      const config = parseModelConfig(yaml("telemetry:\n  enabled: true\n  capture_content: true\n"), { env: {} });
      const orchestrator = await createOrchestrator({ config, startHealthMonitor: false });
      const result = await orchestrator.generate({ messages: [{ role: "user", content: "trace me" }] });
      await orchestrator.close();
      const spans = exporter.getFinishedSpans();
      expect(spans.map((s) => s.name)).toEqual(["chat mini", "chat mini"]);
      const call = spans.find((s) => s.attributes["orchestrator.attempts"] !== undefined);
      expect(call?.attributes).toMatchObject({
        "gen_ai.provider.name": "openai",
        "orchestrator.selection.id": result.selectionId,
      });
      expect(JSON.parse(call?.attributes["gen_ai.input.messages"] as string)).toEqual([
        { role: "user", parts: [{ type: "text", content: "trace me" }] },
      ]);
      expect(JSON.stringify(spans.map((s) => s.attributes))).not.toContain(KEY);

      exporter.reset();
      const off = await createOrchestrator({ config, startHealthMonitor: false, telemetry: false });
      await off.generate({ messages: [{ role: "user", content: "not traced" }] });
      await off.close();
      const quiet = await createOrchestrator({
        config: parseModelConfig(yaml("telemetry: { enabled: false }\n"), { env: {} }),
        startHealthMonitor: false,
      });
      await quiet.generate({ messages: [{ role: "user", content: "not traced" }] });
      await quiet.close();
      expect(exporter.getFinishedSpans()).toEqual([]);
    } finally {
      trace.disable();
    }
  });
});

describe("OpenTelemetry stays optional (a real node process)", () => {
  // A resolve hook that makes @orchestrator-ts/otel impossible to load, as if it were not installed.
  const dir = mkdtempSync(join(tmpdir(), "orchestrator-no-otel-"));
  const hook = join(dir, "no-otel-hook.mjs");
  writeFileSync(
    hook,
    `export async function resolve(specifier, context, next) {
  if (specifier === "@orchestrator-ts/otel" || specifier.startsWith("@opentelemetry/sdk")) {
    throw Object.assign(new Error("Cannot find package '" + specifier + "'"), { code: "ERR_MODULE_NOT_FOUND" });
  }
  return next(specifier, context);
}
`,
  );
  const register = join(dir, "register.mjs");
  writeFileSync(
    register,
    `import { register } from "node:module";\nregister(${JSON.stringify(pathToFileURL(hook).href)});\n`,
  );
  const script = (telemetry: string) => `
import { createOrchestrator, parseModelConfig } from "orchestrator-ts";
const config = parseModelConfig(${JSON.stringify(yaml(telemetry))}, { env: {} });
try {
  const o = await createOrchestrator({ config, startHealthMonitor: false });
  const r = await o.generate({ messages: [{ role: "user", content: "hello" }] });
  await o.close();
  console.log("answered: " + String(r.text.length > 0));
} catch (error) {
  console.error(error.code + ": " + error.message);
  process.exitCode = 1;
}
`;

  it("without telemetry the meta-package never loads @orchestrator-ts/otel; with it enabled and OpenTelemetry missing, a typed error says what to install", {
    timeout: 60_000,
  }, async () => {
    const cwd = join(__dirname, "..");
    const [off, on] = await Promise.all([
      runScript({ script: script("") }, { cwd, nodeArgs: ["--import", register], timeoutMs: 45_000 }),
      runScript(
        { script: script("telemetry: { enabled: true }\n") },
        { cwd, nodeArgs: ["--import", register], timeoutMs: 45_000 },
      ),
    ]);
    expect(off.stderr).toBe("");
    expect(off.stdout.trim()).toBe("answered: true");
    expect(off.code).toBe(0);
    expect(on.code).toBe(1);
    expect(on.stdout).toBe("");
    expect(on.stderr).toContain(
      "config_error: Telemetry unavailable: telemetry: telemetry is enabled but OpenTelemetry could not be loaded",
    );
    expect(on.stderr).toContain("npm install @opentelemetry/api");
  });
});
