/**
 * `${VAR}` expansion for scalar values of a config file. Applied after YAML parsing, one scalar
 * at a time, so every problem can be reported at the scalar's own line and column.
 *
 * - `${NAME}`: the variable's value; unset or empty is a problem (never a silent empty string).
 * - `${NAME:-default}`: the default when NAME is unset or empty; the default may itself hold `${…}`.
 * - `$${`: a literal `${` (so `$${HOME}` stays `${HOME}`).
 * - `$NAME` without braces is left alone: too many real values contain a `$`.
 */

export type Env = Readonly<Record<string, string | undefined>>;

export interface ExpandResult {
  value: string;
  /** Variables whose values were used (not those replaced by their default). */
  used: string[];
  /** Variables that were needed but unset, or set to an empty string. */
  missing: { name: string; empty: boolean }[];
  /** Syntax problems: unterminated `${`, invalid names. */
  errors: string[];
}

const NAME = /^[A-Za-z_][A-Za-z0-9_]*/;

/** The longest value one scalar may expand to, in characters. */
export const MAX_EXPANDED_VALUE = 1024 * 1024;
/** The most characters all the `${…}` of one file may expand to together. */
export const MAX_EXPANDED_TOTAL = 16 * 1024 * 1024;
/** How deep `${A:-${B:-…}}` defaults may nest. */
export const MAX_REFERENCE_NESTING = 16;

/** What is left of one file's expansion allowance, shared by its scalars. */
export interface ExpansionBudget {
  remaining: number;
}

export function newExpansionBudget(): ExpansionBudget {
  return { remaining: MAX_EXPANDED_TOTAL };
}

/** True when the text holds something `expandEnv` would change (a reference or an escape). */
export function hasEnvSyntax(text: string): boolean {
  return text.includes("${");
}

/**
 * Expand the references of one scalar. Bounded in time and size: literal text is copied in runs,
 * nesting of defaults is capped at `MAX_REFERENCE_NESTING` (10,000 nested defaults used to end in
 * a RangeError), and the result at `MAX_EXPANDED_VALUE` characters (a million `${V}` used to end
 * in "Invalid string length"); `budget` caps what a whole file expands to.
 */
export function expandEnv(text: string, env: Env, budget: ExpansionBudget = newExpansionBudget()): ExpandResult {
  const result: ExpandResult = { value: "", used: [], missing: [], errors: [] };
  const value = expandInto(text, env, result, 0);
  if (value === undefined) return result;
  budget.remaining -= value.length;
  if (budget.remaining < 0) {
    result.errors.push(
      `the \${…} references of this file expand to more than ${MAX_EXPANDED_TOTAL.toLocaleString("en-US")} characters in total`,
    );
    return result;
  }
  result.value = value;
  return result;
}

const TOO_DEEP = -2;

/** The expansion of `text`, or `undefined` after an error that makes it meaningless (recorded in `result`). */
function expandInto(text: string, env: Env, result: ExpandResult, depth: number): string | undefined {
  let out = "";
  let i = 0;
  while (i < text.length) {
    const dollar = text.indexOf("$", i);
    if (dollar < 0) {
      out += text.slice(i);
      break;
    }
    out += text.slice(i, dollar);
    i = dollar;
    if (text.startsWith("$${", i)) {
      out += "${";
      i += 3;
      continue;
    }
    if (!text.startsWith("${", i)) {
      out += "$";
      i++;
      continue;
    }
    const end = matchingBrace(text, i + 2, MAX_REFERENCE_NESTING - depth);
    if (end === TOO_DEEP) {
      result.errors.push(`\${…} references nested more than ${MAX_REFERENCE_NESTING} deep in "${preview(text)}"`);
      return undefined;
    }
    if (end < 0) {
      result.errors.push(`unterminated "\${" in "${preview(text)}" (missing "}")`);
      break;
    }
    const inner = text.slice(i + 2, end);
    i = end + 1;
    const name = NAME.exec(inner)?.[0];
    const rest = name === undefined ? inner : inner.slice(name.length);
    if (name === undefined || (rest !== "" && !rest.startsWith(":-"))) {
      result.errors.push(
        `invalid variable reference "\${${preview(inner)}}": a name is letters, digits and "_", not starting with a digit; a default is written \${NAME:-default}`,
      );
      continue;
    }
    // Own variables only: `${constructor}` is not Object.prototype.constructor.
    const value = Object.hasOwn(env, name) ? env[name] : undefined;
    if (typeof value === "string" && value !== "") {
      result.used.push(name);
      out += value;
    } else if (rest.startsWith(":-")) {
      const fallback = expandInto(rest.slice(2), env, result, depth + 1);
      if (fallback === undefined) return undefined;
      out += fallback;
    } else {
      result.missing.push({ name, empty: value === "" });
    }
    if (out.length > MAX_EXPANDED_VALUE) {
      result.errors.push(`expands to more than ${MAX_EXPANDED_VALUE.toLocaleString("en-US")} characters`);
      return undefined;
    }
  }
  return out;
}

/** Index of the `}` closing a `${` whose body starts at `from`, counting nested `${…}`; -1 if none, TOO_DEEP past `maxDepth` nested. */
function matchingBrace(text: string, from: number, maxDepth: number): number {
  let depth = 0;
  for (let i = from; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 36 && text.charCodeAt(i + 1) === 123) {
      if (++depth > maxDepth) return TOO_DEEP;
      i++;
    } else if (c === 125) {
      if (depth === 0) return i;
      depth--;
    }
  }
  return -1;
}

/** A long value cut for a message. */
function preview(text: string): string {
  return text.length <= 80 ? text : `${text.slice(0, 77)}...`;
}

/** Values read from variables named like credentials are treated as secrets wherever they land. */
export const SECRET_ENV_NAME = /KEY|TOKEN|SECRET|PASSWORD|CREDENTIAL/i;
