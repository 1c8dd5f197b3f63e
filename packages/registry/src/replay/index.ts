export { parseCsv } from "./csv";
export { loadReplayCsv, type ReplayDataset, type ReplayRow } from "./dataset";
export { aiq, nonDecreasingHull, oraclePoint, randomPoint, singleModelPoint, type Point } from "./metrics";
