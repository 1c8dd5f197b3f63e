/**
 * A module imported on first need, once: `load()` starts the import (later calls share it),
 * `loaded()` is the module once it has arrived, else `undefined`. Providers use it for their SDK,
 * so that importing a provider package does not load an SDK no model of the application uses.
 * `load` must be the package's own `() => import("…")`, so the specifier resolves from there.
 */
export interface LazyModule<T> {
  load(): Promise<T>;
  loaded(): T | undefined;
}

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
