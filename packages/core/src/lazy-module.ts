/**
 * A module imported on first need, once: `load()` starts the import (later calls share it),
 * `loaded()` is the module once it has arrived, else `undefined`. Providers use it for their SDK,
 * so that importing a provider package does not load an SDK no model of the application uses.
 * `load` must be the package's own `() => import("…")` (its CommonJS build's own `require`, see
 * `COMMONJS_BUILD`), so the specifier resolves from there.
 */
export interface LazyModule<T> {
  load(): Promise<T>;
  loaded(): T | undefined;
}

declare const __ORCHESTRATOR_CJS__: boolean | undefined;

/**
 * Whether this is the CommonJS build of our packages (the build defines the constant per format;
 * sources, as tests run them, are ES modules). A provider's CommonJS build loads its SDK with
 * `require`, so that a CommonJS application and the provider share one copy of it: the SDKs ship
 * both builds, and `import()` from CommonJS would load the second (its own classes, its own
 * memory).
 */
export const COMMONJS_BUILD: boolean = typeof __ORCHESTRATOR_CJS__ === "boolean" && __ORCHESTRATOR_CJS__;

export function lazyModule<T>(load: () => Promise<T>): LazyModule<T> {
  let module: T | undefined;
  let loading: Promise<T> | undefined;
  return {
    load: () => {
      loading ??= load().then((m) => {
        module = m;
        return m;
      });
      return loading;
    },
    loaded: () => module,
  };
}
