// The `keys:` section: static virtual keys for the gateway's key gate.
import { type ConfigIssue, Secret, type StaticKeyConfig } from "@orchestrator-ts/core";
import { compact } from "./compact";
import { type Locator, fromZodIssues, issueAt, suggest } from "./issues";
import { staticKeySchema } from "./schema";
import type { PathKey } from "./yaml-tree";

/** The shortest key accepted: a guessable key would let anyone in. */
const MIN_KEY_LENGTH = 16;

/** `keys:`: static virtual keys. A key's value is never echoed in a message (it is a credential). */
export function parseKeys(
  value: unknown,
  issues: ConfigIssue[],
  locator: Locator,
  clean: (list: ConfigIssue[]) => ConfigIssue[],
  allowed: readonly string[],
): StaticKeyConfig[] | undefined {
  if (value === undefined || value === null) return undefined;
  if (!Array.isArray(value)) {
    issues.push(
      issueAt(
        locator,
        ["keys"],
        "expected a list of keys (name, key, and optionally budget_usd, budget_period, rpm, tpm, models, metadata)",
      ),
    );
    return undefined;
  }
  const keys: StaticKeyConfig[] = [];
  const names = new Map<string, number>();
  const values = new Map<string, number>();
  value.forEach((item: unknown, i: number) => {
    const at: PathKey[] = ["keys", i];
    const record =
      item && typeof item === "object" && !Array.isArray(item) ? (item as Record<string, unknown>) : undefined;
    if (!record) {
      issues.push(issueAt(locator, at, "expected a mapping with name and key"));
      return;
    }
    const raw = record.key;
    if (raw === undefined || raw === null || raw === "")
      issues.push(
        issueAt(
          locator,
          [...at, "key"],
          'needs "key": the value clients send (usually from a variable: key: $' + "{TEAM_KEY})",
          raw === undefined ? "key" : "value",
        ),
      );
    else if (typeof raw !== "string") issues.push(issueAt(locator, [...at, "key"], "must be a string"));
    else if (raw.length < MIN_KEY_LENGTH)
      issues.push(issueAt(locator, [...at, "key"], `is too short to be safe (${MIN_KEY_LENGTH} characters at least)`));
    else {
      const first = values.get(raw);
      if (first !== undefined) issues.push(issueAt(locator, [...at, "key"], `the same key as keys[${first}]`));
      else values.set(raw, i);
    }
    // Model names are checked as written, so a typo is reported even when another field is wrong too.
    if (Array.isArray(record.models)) {
      record.models.forEach((m: unknown, j: number) => {
        if (typeof m === "string" && m !== "" && !allowed.includes(m))
          issues.push(issueAt(locator, [...at, "models", j], `unknown model or route "${m}"${suggest(m, allowed)}`));
      });
    }
    const { key: _key, ...rest } = record;
    const parsed = staticKeySchema.safeParse({ ...rest, key: "" });
    if (!parsed.success) {
      issues.push(...clean(fromZodIssues(parsed.error.issues, item, staticKeySchema, at, locator)));
      return;
    }
    const d = parsed.data;
    const first = names.get(d.name);
    if (first !== undefined)
      issues.push(issueAt(locator, [...at, "name"], `duplicate key name "${d.name}" (keys[${first}])`));
    else names.set(d.name, i);
    if (typeof raw !== "string" || raw.length < MIN_KEY_LENGTH) return;
    const here = locator.position(at) ?? { line: 1, column: 1 };
    keys.push(
      compact({
        name: d.name,
        key: new Secret(raw),
        budgetUsd: d.budget_usd,
        budgetPeriod: d.budget_period,
        rpm: d.rpm,
        tpm: d.tpm,
        models: d.models,
        metadata: d.metadata,
        location: { source: locator.source, line: here.line, column: here.column },
      }) as StaticKeyConfig,
    );
  });
  return keys;
}
