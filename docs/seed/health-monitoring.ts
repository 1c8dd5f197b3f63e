// Seed: "Model Health Monitoring".
import { ModelHealthMonitor } from "@orchestrator-ts/health";
import { ModelRegistry } from "@orchestrator-ts/registry";

export async function healthMonitoring(
  register: (registry: ModelRegistry) => void,
): Promise<{ registry: ModelRegistry; issues: string[] | undefined }> {
  // Configure health monitoring
  const monitor = new ModelHealthMonitor({
    checkIntervalMs: 300_000, // 5 minutes
    failureThreshold: 3,
    recoveryThreshold: 2,
  });
  const registry = new ModelRegistry({ healthMonitor: monitor });
  register(registry);

  // Check model health
  const healthStatus = await registry.getModelHealth("gpt-4");
  let issues: string[] | undefined;
  if (!healthStatus.isHealthy) {
    console.log(`Model issues: ${healthStatus.issues.join("; ")}`);
    issues = healthStatus.issues;
  }
  return { registry, issues };
}
