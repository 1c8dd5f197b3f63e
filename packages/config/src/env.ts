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

/** True when the text holds something `expandEnv` would change (a reference or an escape). */
export function hasEnvSyntax(text: string): boolean {
  return text.includes("${");
}

export function expandEnv(text: string, env: Env): ExpandResult {
  const result: ExpandResult = { value: "", used: [], missing: [], errors: [] };
  let out = "";
  let i = 0;
  while (i < text.length) {
    if (text.startsWith("$${", i)) {
      out += "${";
      i += 3;
      continue;
    }
    if (!text.startsWith("${", i)) {
      out += text[i];
      i++;
      continue;
    }
    const end = matchingBrace(text, i + 2);
    if (end < 0) {
      result.errors.push(`unterminated "\${" in "${text}" (missing "}")`);
      break;
    }
    const inner = text.slice(i + 2, end);
    i = end + 1;
    const name = NAME.exec(inner)?.[0];
    const rest = name === undefined ? inner : inner.slice(name.length);
    if (name === undefined || (rest !== "" && !rest.startsWith(":-"))) {
      result.errors.push(
        `invalid variable reference "\${${inner}}": a name is letters, digits and "_", not starting with a digit; a default is written \${NAME:-default}`,
      );
      continue;
    }
    const value = env[name];
    if (value !== undefined && value !== "") {
      result.used.push(name);
      out += value;
    } else if (rest.startsWith(":-")) {
      const fallback = expandEnv(rest.slice(2), env);
      result.used.push(...fallback.used);
      result.missing.push(...fallback.missing);
      result.errors.push(...fallback.errors);
      out += fallback.value;
    } else {
      result.missing.push({ name, empty: value === "" });
    }
  }
  result.value = out;
  return result;
}

/** Index of the `}` closing a `${` whose body starts at `from`, counting nested `${…}`; -1 if none. */
function matchingBrace(text: string, from: number): number {
  let depth = 0;
  for (let i = from; i < text.length; i++) {
    if (text.startsWith("${", i)) {
      depth++;
      i++;
    } else if (text[i] === "}") {
      if (depth === 0) return i;
      depth--;
    }
  }
  return -1;
}


/** Values read from variables named like credentials are treated as secrets wherever they land. */
export const SECRET_ENV_NAME = /KEY|TOKEN|SECRET|PASSWORD|CREDENTIAL/i;
