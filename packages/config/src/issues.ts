import { type ConfigIssue, closestNames, redact } from "@orchestrator-ts/core";
import { formatPath } from "@orchestrator-ts/core/internal";
import type { z } from "zod";
import { describe } from "./schema";
import type { PathKey, Position } from "./yaml-tree";

/** Looks up positions by YAML path; issues without one fall back to the nearest enclosing value. */
export interface Locator {
  source: string;
  position(path: readonly PathKey[], where?: "key" | "value" | "parent"): Position | undefined;
}

export function issueAt(
  locator: Locator,
  path: readonly PathKey[],
  message: string,
  where: "key" | "value" | "parent" = "value",
): ConfigIssue {
  const pos = locator.position(path, where);
  // Messages quote values; redact scrubs any registered secret among them.
  return {
    path: formatPath(path),
    message: redact(message),
    source: locator.source,
    ...(pos ? { line: pos.line, column: pos.column } : {}),
  };
}

const EXPECTED: Readonly<Record<string, string>> = {
  number: "a number",
  int: "a whole number",
  boolean: "true or false",
  string: "a string",
  object: "a mapping",
  record: "a mapping",
  map: "a mapping",
  array: "a list",
};

// A file with one typo repeated 30,000 times asks the same question 30,000 times (edit distances to every known key).
const suggestions = new Map<string, string | undefined>();

/** Issues in file order (line, then column); issues without a position last. */
export function sortIssues(issues: readonly ConfigIssue[]): ConfigIssue[] {
  return [...issues].sort(
    (a, b) =>
      (a.line ?? Number.MAX_SAFE_INTEGER) - (b.line ?? Number.MAX_SAFE_INTEGER) || (a.column ?? 0) - (b.column ?? 0),
  );
}

/** A did-you-mean suffix, or the list of valid names when nothing is close. */
export function suggest(name: string, known: readonly string[], listIfFar = true): string {
  const list = known.join(", ");
  const key = `${name}\u0000${list}`;
  let close = suggestions.get(key);
  if (close === undefined && !suggestions.has(key)) {
    close = closestNames(name, known, 1)[0];
    if (suggestions.size >= 1_000) suggestions.clear();
    suggestions.set(key, close);
  }
  if (close !== undefined) return ` — did you mean "${close}"?`;
  return listIfFar && known.length > 0 ? ` (expected one of: ${list})` : "";
}

function valueAt(root: unknown, path: readonly PropertyKey[]): unknown {
  let current = root;
  for (const key of path) {
    if (current === null || typeof current !== "object") return undefined;
    current = (current as Record<PropertyKey, unknown>)[key];
  }
  return current;
}

/**
 * One user-facing message per zod issue, in the words of a YAML file ("a mapping", "true or
 * false"), each at its YAML path. `prefix` is where `input` sits in the file; `yamlKey` maps a
 * schema key back to how the user spelled it (for plugin schemas, which see camelCase).
 */
export function fromZodIssues(
  issues: readonly z.core.$ZodIssue[],
  input: unknown,
  schema: z.ZodType,
  prefix: readonly PathKey[],
  locator: Locator,
  yamlKey: (key: PathKey, depth: number) => PathKey = (key) => key,
): ConfigIssue[] {
  const out: ConfigIssue[] = [];
  for (const issue of issues) {
    const rawPath = issue.path.filter((k): k is string | number => typeof k !== "symbol");
    const path = [...prefix, ...rawPath.map((k, i) => yamlKey(k, i))];
    if (issue.code === "unrecognized_keys") {
      const known = keysAt(schema, rawPath).map((k) => String(yamlKey(k, rawPath.length)));
      for (const raw of issue.keys) {
        const key = String(yamlKey(raw, rawPath.length));
        out.push(issueAt(locator, [...path, key], `unknown key "${key}"${suggest(key, known)}`, "key"));
      }
      continue;
    }
    const value = valueAt(input, rawPath);
    const parent = valueAt(input, rawPath.slice(0, -1));
    const absent =
      rawPath.length > 0 &&
      parent !== null &&
      typeof parent === "object" &&
      !Object.hasOwn(parent, rawPath[rawPath.length - 1] as PropertyKey);
    if (value === undefined && (absent || issue.code === "invalid_type" || issue.code === "invalid_value")) {
      const key = path[path.length - 1];
      out.push(issueAt(locator, path, `missing required key "${String(key)}"`, "parent"));
      continue;
    }
    out.push(issueAt(locator, path, messageOf(issue, value)));
  }
  return out;
}

function messageOf(issue: z.core.$ZodIssue, value: unknown): string {
  switch (issue.code) {
    case "invalid_type":
      return `expected ${EXPECTED[issue.expected] ?? issue.expected}, got ${describe(value)}`;
    case "invalid_value": {
      const values = issue.values.map((v) => JSON.stringify(v));
      const hint = typeof value === "string" ? suggest(value, issue.values.map(String), false) : "";
      return `expected ${values.length === 1 ? values[0] : `one of ${values.join(", ")}`}, got ${describe(value)}${hint}`;
    }
    case "too_small":
      if (issue.origin === "string") return "must not be empty";
      if (issue.origin === "array")
        return Number(issue.minimum) <= 1 ? "must not be empty" : `must list at least ${issue.minimum} items`;
      return `must be ${issue.inclusive ? "at least" : "greater than"} ${issue.minimum}, got ${describe(value)}`;
    case "too_big":
      if (issue.origin === "string" || issue.origin === "array")
        return `must have at most ${issue.maximum} ${issue.origin === "string" ? "characters" : "items"}`;
      return `must be ${issue.inclusive ? "at most" : "less than"} ${issue.maximum}, got ${describe(value)}`;
    default:
      return issue.message;
  }
}

interface Def {
  type: string;
  shape?: Record<string, z.ZodType>;
  innerType?: z.ZodType;
  in?: z.ZodType;
  element?: z.ZodType;
  valueType?: z.ZodType;
  options?: z.ZodType[];
}

function defOf(schema: z.ZodType): Def {
  return (schema as unknown as { _zod: { def: Def } })._zod.def;
}

/** The object keys a schema accepts at a path (through optional, default, pipe, array, record). */
export function keysAt(schema: z.ZodType, path: readonly PathKey[]): string[] {
  let current: z.ZodType | undefined = schema;
  let i = 0;
  for (let guard = 0; current && guard < 100; guard++) {
    const def = defOf(current);
    if (def.innerType) current = def.innerType;
    else if (def.type === "pipe" && def.in) current = def.in;
    else if (i >= path.length) return def.shape ? Object.keys(def.shape) : [];
    else if (def.shape) current = def.shape[String(path[i++])];
    else if (def.element ?? def.valueType) {
      current = def.element ?? def.valueType;
      i++;
    } else return [];
  }
  return [];
}
