export { ModelHealthMonitor, type WatchedModel } from "./monitor";
export type {
  Availability,
  CircuitState,
  HealthChangeListener,
  ModelHealth,
  ModelHealthMonitorOptions,
  ResolvedOptions,
} from "./options";
