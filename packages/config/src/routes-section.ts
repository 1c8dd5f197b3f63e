import {
  CAPABILITY_NAMES,
  type CapabilityName,
  type CascadeRouteConfig,
  type CascadeSettingsConfig,
  type RouteConfig,
  type SelectionRequirements,
  type SelectorRouteConfig,
  type ConfigIssue,
  type SelectorConfig,
} from "@orchestrator-ts/core";
import type { z } from "zod";
import { type Locator, fromZodIssues, issueAt, suggest } from "./issues";
import { camelToSnake, configKeyToCamel } from "./names";
import {
  ROUTE_TYPES,
  SECTIONS,
  cascadeRouteSchema,
  type cascadeTaskSchema,
  describe,
  selectorRouteSchema,
  type selectorSchema,
} from "./schema";
import { compact } from "./compact";
import { type PathKey, setOwn } from "./yaml-tree";

const ROUTE_SCHEMAS = { cascade: cascadeRouteSchema, selector: selectorRouteSchema } as const;

/** `routes:`: each entry checked on its own (every entry's problems reported), model names checked against `models:`. */
export function parseRoutes(
  value: unknown,
  issues: ConfigIssue[],
  locator: Locator,
  modelNames: ReadonlyMap<string, number>,
  clean: (list: ConfigIssue[]) => ConfigIssue[],
  selectorOf: (parsed: z.output<typeof selectorSchema>, written: object, at: PathKey[]) => SelectorConfig,
  checkModelName: (value: string, path: PathKey[], where: "key" | "value") => void,
): RouteConfig[] | undefined {
  if (value === undefined || value === null) return undefined;
  const listed = SECTIONS.routes.safeParse(value);
  if (!listed.success || !Array.isArray(value)) {
    issues.push(
      ...clean(fromZodIssues(listed.success ? [] : listed.error.issues, value, SECTIONS.routes, ["routes"], locator)),
    );
    if (!Array.isArray(value)) return undefined;
  }
  const routes: RouteConfig[] = [];
  const seen = new Map<string, number>();
  value.forEach((item: unknown, i: number) => {
    const at: PathKey[] = ["routes", i];
    const record =
      item && typeof item === "object" && !Array.isArray(item) ? (item as Record<string, unknown>) : undefined;
    const name = record?.name;
    if (typeof name === "string" && name !== "") {
      const first = seen.get(name);
      if (first !== undefined) {
        const pos = locator.position(["routes", first, "name"]);
        issues.push(
          issueAt(
            locator,
            [...at, "name"],
            `duplicate route name "${name}" (first defined at ${locator.source}:${pos?.line}:${pos?.column}, routes[${first}])`,
          ),
        );
      } else seen.set(name, i);
      if (modelNames.has(name))
        issues.push(
          issueAt(
            locator,
            [...at, "name"],
            `"${name}" is also a model's name: a request for it could not tell the two apart`,
          ),
        );
      if (name === "auto")
        issues.push(issueAt(locator, [...at, "name"], `"auto" is reserved: it means the selector over every model`));
    }
    const type = record?.type;
    if (!record || typeof type !== "string" || !Object.hasOwn(ROUTE_SCHEMAS, type)) {
      const message = !record
        ? "expected a mapping with name, type and the route's settings"
        : `type must be one of ${ROUTE_TYPES.map((t) => `"${t}"`).join(", ")}, got ${describe(type)}${typeof type === "string" ? suggest(type, ROUTE_TYPES) : ""}`;
      issues.push(issueAt(locator, record && type !== undefined ? [...at, "type"] : at, message));
      return;
    }
    // Model names are checked as written, so a typo is reported even when another field is wrong too.
    const checkStages = (stages: unknown, path: PathKey[]) => {
      if (!Array.isArray(stages)) return;
      stages.forEach((stage, j) => {
        const models = stage && typeof stage === "object" ? (stage as { models?: unknown }).models : undefined;
        if (!Array.isArray(models)) return;
        models.forEach((m, k) => {
          if (typeof m === "string" && m !== "") checkModelName(m, [...path, "stages", j, "models", k], "value");
        });
      });
    };
    checkStages(record.stages, at);
    if (record.tasks && typeof record.tasks === "object")
      for (const [task, t] of Object.entries(record.tasks))
        checkStages((t as { stages?: unknown } | null)?.stages, [...at, "tasks", task]);
    const here = locator.position(at) ?? { line: 1, column: 1 };
    const location = { source: locator.source, line: here.line, column: here.column };
    if (type === "selector") {
      const parsed = selectorRouteSchema.safeParse(item);
      if (!parsed.success) {
        issues.push(...clean(fromZodIssues(parsed.error.issues, item, selectorRouteSchema, at, locator)));
        return;
      }
      const d = parsed.data;
      const req = d.requirements;
      let requirements: SelectionRequirements | undefined;
      if (req) {
        (req.capabilities ?? []).forEach((c, j) => {
          const camel = configKeyToCamel(c);
          if (!CAPABILITY_NAMES.includes(camel as CapabilityName))
            issues.push(
              issueAt(
                locator,
                [...at, "requirements", "capabilities", j],
                `unknown capability "${c}"${suggest(c, CAPABILITY_NAMES.map(camelToSnake))}`,
              ),
            );
        });
        requirements = compact({
          capabilities: req.capabilities?.map((c) => configKeyToCamel(c) as CapabilityName),
          maxCost: req.max_cost,
          minSpeed: req.min_speed,
          minContextWindow: req.min_context_window,
          tasks: req.tasks,
          languages: req.languages,
          providers: req.providers,
          excludeProviders: req.exclude_providers,
          maxLatencyMs: req.max_latency,
          localOnly: req.local_only,
        });
      }
      const route: SelectorRouteConfig = compact({
        type: "selector" as const,
        name: d.name,
        requirements,
        selector: d.selector ? selectorOf(d.selector, record.selector as object, [...at, "selector"]) : undefined,
        location,
      });
      routes.push(route);
      return;
    }
    const parsed = cascadeRouteSchema.safeParse(item);
    if (!parsed.success) {
      issues.push(...clean(fromZodIssues(parsed.error.issues, item, cascadeRouteSchema, at, locator)));
      return;
    }
    const d = parsed.data;
    const settingsOf = (s: z.output<typeof cascadeTaskSchema>): CascadeSettingsConfig => {
      return compact({
        stages: s.stages?.map((st) => compact({ models: st.models, parallel: st.parallel })),
        extract: s.extract,
        accept:
          s.accept === undefined
            ? undefined
            : s.accept === "unanimous"
              ? ("unanimous" as const)
              : { atLeast: s.accept.at_least },
        prefer: s.prefer,
        budgetPerRequest: s.budget_per_request,
        pacingRate: s.pacing_rate,
      });
    };
    const own = settingsOf(d);
    let tasks: Record<string, CascadeSettingsConfig> | undefined;
    if (d.tasks) {
      tasks = {};
      for (const [task, settings] of Object.entries(d.tasks)) setOwn(tasks, task, settingsOf(settings));
    }
    routes.push(
      compact({
        ...own,
        type: "cascade" as const,
        name: d.name,
        stages: own.stages ?? [],
        extract: d.extract,
        tasks,
        location,
      }) as CascadeRouteConfig,
    );
  });
  return routes;
}
