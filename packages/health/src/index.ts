export { ModelHealthMonitor } from "./monitor";
export type { WatchedModel } from "./watched";
export type {
  Availability,
  CircuitState,
  HealthChangeListener,
  ModelHealth,
  ModelHealthMonitorOptions,
  ResolvedOptions,
} from "./options";
