import { ConfigError } from "./errors";

/**
 * A module imported on first need, once: `load()` starts the import (later calls share it),
 * `loaded()` is the module once it has arrived, else `undefined`. Providers use it for their SDK,
 * so that importing a provider package does not load an SDK no model of the application uses.
 * `load` must be the package's own `() => import("…")` (its CommonJS build's own literal
 * `require`), so the specifier resolves from there.
 *
 * A failed import is not remembered: the next `load()` tries again (a file-descriptor limit, a
 * package installed since). When the package itself is not installed, the rejection is a
 * `ConfigError` that says which package to install and who needs it.
 */
export interface LazyModule<T> {
  load(): Promise<T>;
  loaded(): T | undefined;
}

export interface LazyModuleOptions {
  /** The npm package `load` imports. */
  package: string;
  /** Who needs it, for the error when it is missing: `"The OpenAI provider"`. */
  neededBy: string;
}

export function lazyModule<T>(load: () => Promise<T>, options?: LazyModuleOptions): LazyModule<T> {
  let module: T | undefined;
  let loading: Promise<T> | undefined;
  return {
    load: () => {
      // Through a `then`, so that a loader that throws at once (CommonJS `require`) rejects like an import.
      loading ??= Promise.resolve()
        .then(load)
        .then(
          (m) => {
            module = m;
            return m;
          },
          (error: unknown) => {
            loading = undefined;
            throw options !== undefined && isModuleNotFound(error, options.package)
              ? missingPackageError(options, error)
              : error;
          },
        );
      return loading;
    },
    loaded: () => module,
  };
}

/**
 * Node's "not found" from an import or a require. With `name`, only for that package itself (ESM:
 * `Cannot find package 'name'`, CommonJS: `Cannot find module 'name'`), not for a file inside it.
 */
export function isModuleNotFound(error: unknown, name?: string): boolean {
  const { code, message } = (error ?? {}) as { code?: unknown; message?: unknown };
  if (code !== "ERR_MODULE_NOT_FOUND" && code !== "MODULE_NOT_FOUND") return false;
  return (
    name === undefined ||
    (typeof message === "string" && (message.includes(`package '${name}'`) || message.includes(`module '${name}'`)))
  );
}

/** The error for a package that is not installed: which one, who needs it, and the command that installs it. */
export function missingPackageError(options: LazyModuleOptions, cause?: unknown): ConfigError {
  return new ConfigError(
    `${options.neededBy} needs the npm package "${options.package}", which is not installed here: npm install ${options.package}`,
    { title: "Missing package", ...(cause === undefined ? {} : { cause }) },
  );
}
