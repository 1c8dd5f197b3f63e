import type { IncomingHttpHeaders } from "node:http";
import { CAPABILITY_NAMES, type SelectionRequirements, closestNames } from "@orchestrator-ts/core";
import { GatewayError } from "./contract";

/** Routing hints a request may carry without breaking OpenAI or Anthropic clients. */
export interface RoutingHints {
  task: string | undefined;
  requirements: SelectionRequirements | undefined;
}

const NO_HINTS: RoutingHints = Object.freeze({ task: undefined, requirements: undefined });

function invalid(param: string, expected: string): GatewayError {
  return new GatewayError(400, "invalid_request_error", `Invalid value for '${param}': expected ${expected}.`, {
    param,
    code: "invalid_value",
  });
}

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === "object" && value !== null && !Array.isArray(value);

/**
 * Hints from the headers `x-orchestrator-task`, `x-orchestrator-max-cost`,
 * `x-orchestrator-capabilities` (a comma list) and from the body's `orchestrator` field
 * (`{ task, max_cost, capabilities }`), which wins key by key. The field is removed from `body`
 * so that it never reaches a provider.
 */
export function routingHints(headers: IncomingHttpHeaders, body: Record<string, unknown>): RoutingHints {
  const headerTask = headers["x-orchestrator-task"];
  const headerCost = headers["x-orchestrator-max-cost"];
  const headerCaps = headers["x-orchestrator-capabilities"];
  const field = body.orchestrator;
  if (headerTask === undefined && headerCost === undefined && headerCaps === undefined && field === undefined)
    return NO_HINTS;

  let task: string | undefined;
  let maxCost: number | undefined;
  let capabilities: string[] | undefined;
  // Where the capability names came from, for an error that points at what the client wrote.
  let capabilitiesFrom = "x-orchestrator-capabilities";
  let capabilitiesIndexed = false;
  if (typeof headerTask === "string" && headerTask.trim() !== "") task = headerTask.trim();
  if (typeof headerCost === "string") {
    maxCost = Number(headerCost);
    if (headerCost.trim() === "" || !Number.isFinite(maxCost) || maxCost < 0)
      throw invalid("x-orchestrator-max-cost", "a number of US dollars, at least 0");
  }
  if (typeof headerCaps === "string") capabilities = splitList(headerCaps);

  if (field !== undefined) {
    delete body.orchestrator;
    if (field !== null) {
      if (!isRecord(field)) throw invalid("orchestrator", "an object ({ task, max_cost, capabilities })");
      for (const key of Object.keys(field)) {
        if (key !== "task" && key !== "max_cost" && key !== "capabilities")
          throw invalid(`orchestrator.${key}`, "one of task, max_cost, capabilities (an unknown hint)");
      }
      if (field.task !== undefined) {
        if (typeof field.task !== "string" || field.task === "")
          throw invalid("orchestrator.task", "a non-empty string");
        task = field.task;
      }
      if (field.max_cost !== undefined) {
        if (typeof field.max_cost !== "number" || !Number.isFinite(field.max_cost) || field.max_cost < 0)
          throw invalid("orchestrator.max_cost", "a number of US dollars, at least 0");
        maxCost = field.max_cost;
      }
      if (field.capabilities !== undefined) {
        const caps = field.capabilities;
        if (typeof caps === "string") capabilities = splitList(caps);
        else if (Array.isArray(caps) && caps.every((c) => typeof c === "string")) capabilities = caps as string[];
        else throw invalid("orchestrator.capabilities", "an array of capability names");
        capabilitiesFrom = "orchestrator.capabilities";
        capabilitiesIndexed = Array.isArray(caps);
      }
    }
  }
  if (capabilities !== undefined) checkCapabilities(capabilities, capabilitiesFrom, capabilitiesIndexed);
  if (maxCost === undefined && (capabilities === undefined || capabilities.length === 0))
    return task === undefined ? NO_HINTS : { task, requirements: undefined };
  const requirements: SelectionRequirements = {};
  if (maxCost !== undefined) requirements.maxCost = maxCost;
  if (capabilities !== undefined && capabilities.length > 0)
    requirements.capabilities = capabilities as SelectionRequirements["capabilities"];
  return { task, requirements };
}

const KNOWN: readonly string[] = [
  ...CAPABILITY_NAMES,
  ...CAPABILITY_NAMES.map((n) => n.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`)),
];
const KNOWN_SET = new Set(KNOWN);

/** Unknown capability names fail here, named by where the client wrote them (header, or the body's index). */
function checkCapabilities(names: readonly string[], from: string, indexed: boolean): void {
  names.forEach((name, i) => {
    if (KNOWN_SET.has(name)) return;
    const close = closestNames(name, KNOWN);
    const hint = close.length > 0 ? ` Did you mean ${close.map((c) => `"${c}"`).join(" or ")}?` : "";
    const param = indexed ? `${from}[${i}]` : from;
    throw new GatewayError(
      400,
      "invalid_request_error",
      `Invalid value for '${param}': unknown capability "${name}".${hint} Known: ${CAPABILITY_NAMES.join(", ")}.`,
      { param, code: "invalid_value" },
    );
  });
}

function splitList(value: string): string[] {
  const out: string[] = [];
  for (const part of value.split(",")) {
    const name = part.trim();
    if (name !== "") out.push(name);
  }
  return out;
}
