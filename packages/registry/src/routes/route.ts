import {
  type Model,
  type ModelSelector,
  type NormalizedRequirements,
  OrchestratorError,
  type OrchestratorErrorOptions,
  type SelectionRequirements,
  closestNames,
  ConfigError,
} from "@orchestrator-ts/core";
import { normalizeRequirements } from "../requirements";
import type { CascadeRoute } from "./cascade-route";

// Routes: names a request can ask for instead of leaving the choice to the registry's selector.
// `route: "auto"` (or none) is the selector over every model; a model's name is that model with
// its configured fallbacks; a route's name is that route. `registry.resolveRoute(id)` does this
// lookup once for every front end (the HTTP server's `model`, the AI SDK provider's model id).

/** The id that means "the registry's selector over every registered model". */
export const AUTO_ROUTE = "auto";

export interface SelectorRouteOptions {
  name: string;
  /** Requirements every request of this route must meet (merged with the call's own: capabilities, tasks and languages add up, the call's other fields win). */
  requirements?: SelectionRequirements;
  /** Chooses among the eligible models for this route only. Default: the registry's selector. */
  selector?: ModelSelector;
  description?: string;
}

/** A name for "these requirements, this selector": `registry.generate({ ...request, route: "cheap-code" })`. */
export class SelectorRoute {
  readonly type = "selector" as const;
  readonly name: string;
  readonly requirements: NormalizedRequirements | undefined;
  readonly selector: ModelSelector | undefined;
  readonly description: string | undefined;

  constructor(options: SelectorRouteOptions) {
    const issues = [];
    if (!options || typeof options !== "object")
      throw new ConfigError([{ path: "", message: "SelectorRoute expects { name, requirements?, selector? }" }], {
        title: "Invalid route",
      });
    if (typeof options.name !== "string" || options.name.trim() === "")
      issues.push({ path: "name", message: `must be a non-empty string, got ${JSON.stringify(options.name)}` });
    if (options.selector !== undefined && typeof options.selector?.select !== "function")
      issues.push({ path: "selector", message: "must have a select(candidates, context) method" });
    if (issues.length > 0) throw new ConfigError(issues, { title: "Invalid route" });
    this.name = options.name;
    this.requirements = options.requirements === undefined ? undefined : normalizeRequirements(options.requirements);
    this.selector = options.selector;
    this.description = options.description;
  }

  /** The route's requirements with the call's own. */
  merge(call: SelectionRequirements | undefined): NormalizedRequirements | undefined {
    const own = this.requirements;
    if (call === undefined) return own;
    const normalized = normalizeRequirements(call);
    if (own === undefined) return normalized;
    const out: NormalizedRequirements = { ...own, ...normalized };
    if (own.capabilities && normalized.capabilities)
      out.capabilities = [...new Set([...own.capabilities, ...normalized.capabilities])];
    if (own.tasks && normalized.tasks) out.tasks = [...new Set([...own.tasks, ...normalized.tasks])];
    if (own.languages && normalized.languages)
      out.languages = [...new Set([...own.languages, ...normalized.languages])];
    return out;
  }
}

/** Anything `registry.addRoute` takes. */
export type Route = SelectorRoute | CascadeRoute;

/** What an id (`"auto"`, a model name, a route name) stands for. */
export type ResolvedRoute =
  | { readonly type: "auto"; readonly id: string }
  | { readonly type: "model"; readonly id: string; readonly model: Model }
  | { readonly type: "route"; readonly id: string; readonly route: Route };

/** A request named a route (or model) the registry does not know. */
export class RouteNotFoundError extends OrchestratorError {
  static override readonly errorName: string = "RouteNotFoundError";
  override readonly code: string = "route_not_found";
  readonly route: string;
  readonly suggestions: readonly string[];
  constructor(
    id: string,
    routes: readonly string[],
    models: readonly string[],
    options: OrchestratorErrorOptions = {},
  ) {
    const shown = typeof id === "string" ? id : String(id);
    const suggestions = typeof id === "string" ? closestNames(id, [AUTO_ROUTE, ...routes, ...models]) : [];
    const hint = suggestions.length > 0 ? ` Did you mean ${suggestions.map((s) => `"${s}"`).join(" or ")}?` : "";
    const routeList = routes.length > 0 ? ` Routes: ${routes.join(", ")}.` : " No routes are registered.";
    const modelList = models.length > 0 ? ` Models: ${models.join(", ")}.` : " No models are registered.";
    super(
      `No route or model named "${shown.length > 200 ? `${shown.slice(0, 200)}…` : shown}".${hint}${routeList}${modelList} ("${AUTO_ROUTE}" lets the selector choose among every model.)`,
      options,
    );
    this.route = shown.slice(0, 200);
    this.suggestions = suggestions;
  }
}
