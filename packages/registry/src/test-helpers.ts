import type {
  Cache,
  GenerateRequest,
  GenerateResult,
  HealthState,
  HealthStatus,
  HealthTracker,
  ModelIdentity,
  StreamChunk,
} from "@orchestrator-ts/core";

/** A real (if simple) HealthTracker: availability set by the test, live-call signals recorded. */
export class ScriptedHealth implements HealthTracker {
  readonly states = new Map<string, { available: boolean; status: HealthState; reason?: string }>();
  readonly watched = new Set<string>();
  readonly successes: string[] = [];
  readonly failures: { name: string; code: string | undefined }[] = [];

  set(name: string, status: HealthState, reason?: string): void {
    this.states.set(name, { available: status !== "unhealthy", status, ...(reason ? { reason } : {}) });
  }
  watch(model: ModelIdentity): void {
    this.watched.add(model.name);
  }
  unwatch(name: string): void {
    this.watched.delete(name);
  }
  availability(name: string): { available: boolean; status: HealthState; reason?: string } {
    return this.states.get(name) ?? { available: true, status: "healthy" };
  }
  async getHealth(name: string): Promise<HealthStatus> {
    const a = this.availability(name);
    return {
      isHealthy: a.available,
      status: a.status,
      issues: a.reason ? [a.reason] : [],
      consecutiveFailures: 0,
      consecutiveSuccesses: 0,
      lastCheckedAt: 1,
      latencyMs: 2,
    };
  }
  recordSuccess(name: string): void {
    this.successes.push(name);
  }
  recordFailure(name: string, error: unknown): void {
    this.failures.push({ name, code: (error as { code?: string }).code });
  }
  start(): void {}
  stop(): void {}
}

/** A minimal real Cache: remembers results by model and last message text. */
export class MapCache implements Cache {
  readonly map = new Map<string, GenerateResult>();
  hits = 0;
  #key(model: ModelIdentity, request: GenerateRequest): string {
    return `${model.name}\u0000${JSON.stringify(request.messages)}`;
  }
  async generate(
    model: ModelIdentity,
    request: GenerateRequest,
    call: () => Promise<GenerateResult>,
  ): Promise<GenerateResult> {
    const key = this.#key(model, request);
    const hit = this.map.get(key);
    if (hit) {
      this.hits++;
      return { ...hit, cached: true };
    }
    const result = await call();
    this.map.set(key, result);
    return result;
  }
  stream(
    _model: ModelIdentity,
    _request: GenerateRequest,
    call: () => AsyncIterable<StreamChunk>,
  ): AsyncIterable<StreamChunk> {
    return call();
  }
}

export const ask = (content: string, extra: Partial<GenerateRequest> = {}): GenerateRequest => ({
  messages: [{ role: "user", content }],
  ...extra,
});
