import {
  ConfigError,
  type GenerateRequest,
  ModelNotFoundError,
  type NormalizedRequirements,
  type SelectionRequirements,
} from "@orchestrator-ts/core";
import type { CallOptions } from "./call-state";
import { normalizeRequirements } from "./requirements";
import { CascadeRoute } from "./routes/cascade-route";
import { AUTO_ROUTE, type ResolvedRoute, type Route, RouteNotFoundError, SelectorRoute } from "./routes/route";
import type { Selection } from "./selection";
import type { RegistryRequest } from "./types";

/** The registry's routes by name. A route's name is checked against the models' (a request must tell the two apart). */
export class RouteTable {
  readonly #routes = new Map<string, Route>();
  readonly #selection: Selection;

  constructor(selection: Selection) {
    this.#selection = selection;
  }

  has(name: string): boolean {
    return this.#routes.has(name);
  }

  /**
   * Add a route: a `SelectorRoute` (requirements, optionally its own selector) or a
   * `CascadeRoute`. Requests name it with `route: "<name>"`. A cascade's stage models must be
   * registered (`{ allowUnregistered: true }` defers that to the call, where a missing model
   * counts as a failed one).
   */
  add<R extends Route>(route: R, options: { replace?: boolean; allowUnregistered?: boolean } = {}): R {
    if (!(route instanceof SelectorRoute) && !(route instanceof CascadeRoute)) {
      throw new ConfigError([{ path: "route", message: "addRoute expects a SelectorRoute or a CascadeRoute" }], {
        title: "Cannot add route",
      });
    }
    const name = route.name;
    const issues = [];
    if (name === AUTO_ROUTE)
      issues.push({
        path: "name",
        message: `"${AUTO_ROUTE}" is reserved: it means the registry's selector over every model`,
      });
    else if (this.#selection.byName.has(name))
      issues.push({
        path: "name",
        message: `a model is named "${name}": a request for it could not tell the two apart`,
      });
    else if (this.#routes.has(name) && !options.replace)
      issues.push({
        path: "name",
        message: `a route named "${name}" already exists; pass { replace: true } to replace it`,
      });
    if (route instanceof CascadeRoute && !options.allowUnregistered) {
      const known = this.#selection.entries.map((e) => e.model.name);
      for (const m of route.models)
        if (!this.#selection.byName.has(m))
          issues.push({ path: "stages", message: new ModelNotFoundError(m, known).message });
    }
    if (issues.length > 0) throw new ConfigError(issues, { title: `Cannot add route "${name}"` });
    this.#routes.set(name, route);
    return route;
  }

  /** Remove a route; false when there is none of that name. */
  remove(name: string): boolean {
    return this.#routes.delete(name);
  }

  /** The route of that name, or `undefined`. */
  get(name: string): Route | undefined {
    return this.#routes.get(name);
  }

  list(): Route[] {
    return [...this.#routes.values()];
  }

  /**
   * What an id stands for, as every front end reads it (the HTTP server's `model`, the AI SDK
   * provider's model id, `request.route`): `"auto"` → the registry's selector over every model;
   * a route's name → that route; a registered model's name → that model with its configured
   * fallbacks. Anything else throws `RouteNotFoundError` (with close names).
   */
  resolve(id: string): ResolvedRoute {
    if (id === AUTO_ROUTE) return { type: "auto", id };
    if (typeof id === "string") {
      const route = this.#routes.get(id);
      if (route) return { type: "route", id, route };
      const entry = this.#selection.byName.get(id);
      if (entry) return { type: "model", id, model: entry.model };
    }
    throw new RouteNotFoundError(
      id,
      [...this.#routes.keys()],
      this.#selection.entries.map((e) => e.model.name),
    );
  }

  /**
   * A request with `route`, resolved once: what the call loop runs, without the field (models
   * never see it) — or the cascade that answers it.
   */
  target(request: RegistryRequest, requirements: SelectionRequirements | undefined): RoutedCall {
    const { route: id, ...plain } = request;
    const resolved = this.resolve(id as string);
    if (resolved.type === "auto")
      return { request: plain, normalized: normalizeRequirements(requirements), requirements, options: undefined };
    if (resolved.type === "model")
      return {
        request: plain,
        normalized: normalizeRequirements(requirements),
        requirements,
        options: { pin: resolved.id },
      };
    const route = resolved.route;
    if (route instanceof CascadeRoute) return { request: plain, cascade: route };
    const merged = route.merge(requirements);
    return {
      request: plain,
      normalized: merged ?? NO_REQUIREMENTS,
      requirements: merged,
      options: { selector: route.selector },
    };
  }
}

const NO_REQUIREMENTS: NormalizedRequirements = Object.freeze({});

/** What `RouteTable.target` resolves a routed request to: the call loop's inputs, or a cascade. */
export type RoutedCall =
  | {
      request: GenerateRequest;
      normalized: NormalizedRequirements;
      requirements: SelectionRequirements | undefined;
      options: CallOptions | undefined;
      cascade?: undefined;
    }
  | { request: GenerateRequest; cascade: CascadeRoute };
