// Seed: "Model Selection Strategies" — UCB, cost-based and performance-based selectors.
import { CostBasedSelector, ModelRegistry, PerformanceSelector, UCBModelSelector } from "@orchestrator-ts/registry";

export function strategies() {
  // UCB selector balances exploration vs exploitation. The seed's exploration factor 2.0 is
  // accepted; the default (UCB1-Tuned, 0.5) learns faster, measured on RouterBench.
  const ucb = new UCBModelSelector({ explorationFactor: 2.0, minTrials: 5 });
  const registry = new ModelRegistry({ modelSelector: ucb });

  // Select models based on cost optimization
  const cost = new CostBasedSelector({ maxCostPerRequest: 0.1, preferLocalModels: true });

  // Select models based on performance metrics (maxResponseTime in seconds, as the seed)
  const performance = new PerformanceSelector({ minTokensPerSecond: 50, maxResponseTime: 5.0, preferStreaming: true });
  return { ucb, registry, cost, performance };
}
