import type { ModelEntry } from "@orchestrator-ts/core";
import type { Locator } from "./issues";

/** What a parsed entry remembers about its YAML, for errors found later (providers, plugin config). */
export interface EntryMeta {
  index: number;
  locator: Locator;
  /** camelCase config key → the key as written in YAML. */
  yamlKeys: ReadonlyMap<string, string>;
}

// Kept off the entry itself so the parsed config stays plain data (and prints cleanly).
const metas = new WeakMap<ModelEntry, EntryMeta>();

export function setEntryMeta(entry: ModelEntry, meta: EntryMeta): void {
  metas.set(entry, meta);
}

/** The entry's meta, or one built from `entry.location` for configs made by hand. */
export function entryMeta(entry: ModelEntry, index: number): EntryMeta {
  const found = metas.get(entry);
  if (found) return found;
  const { location } = entry;
  return {
    index,
    yamlKeys: new Map(),
    locator: {
      source: location?.source ?? "<config>",
      position: () => (location ? { line: location.line, column: location.column } : undefined),
    },
  };
}
