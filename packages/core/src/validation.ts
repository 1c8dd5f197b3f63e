import type { ZodType } from "zod";
import { ConfigError, type ConfigIssue } from "./errors";

/** Format zod issue paths the way users write them: `models[1].capabilities.maxTokens`. */
export function formatPath(path: readonly PropertyKey[], prefix = ""): string {
  let out = prefix;
  for (const key of path) {
    if (typeof key === "number") out += `[${key}]`;
    else out += out ? `.${String(key)}` : String(key);
  }
  return out;
}

/** Parse with a zod schema; on failure throw one `ConfigError` listing every problem with its path. */
export function parseOrThrow<T>(schema: ZodType<T>, input: unknown, what: string, pathPrefix = ""): T {
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  const issues: ConfigIssue[] = result.error.issues.map((issue) => ({
    path: formatPath(issue.path, pathPrefix),
    message:
      issue.code === "unrecognized_keys"
        ? `unknown field(s) ${issue.keys.map((k) => `"${k}"`).join(", ")}`
        : issue.message,
  }));
  throw new ConfigError(issues, { title: `Invalid ${what}` });
}
