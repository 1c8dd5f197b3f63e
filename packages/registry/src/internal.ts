// For this repository's own packages (@orchestrator-ts/replay), not for applications: no
// stability promise. Import from "@orchestrator-ts/registry/internal".
export { seededRandom } from "./random";
