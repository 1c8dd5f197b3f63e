import { formatPath } from "@orchestrator-ts/core";
import { type Document, LineCounter, type Node, type ParsedNode, isAlias, isMap, isScalar, isSeq, parseDocument } from "yaml";
import { registerSecret } from "@orchestrator-ts/core";
import { type Env, SECRET_ENV_NAME, expandEnv, hasEnvSyntax } from "./env";

export type PathKey = string | number;

export interface Position {
  line: number;
  column: number;
}

interface NodeInfo {
  /** Where the value starts (for an empty value: its key). */
  value: Position;
  /** Where its key starts, for values of a mapping. */
  key?: Position;
}

/** A problem found while reading the YAML itself: syntax, or `${…}` in a scalar. */
export interface TreeProblem {
  path: string;
  position: Position;
  message: string;
  /** Set for variables that are needed but unset: lenient mode forgives these in `config:` blocks. */
  missingVariables?: string[];
}

export interface YamlTree {
  /** The document as plain data: mappings → objects, sequences → arrays, `${…}` expanded. */
  value: unknown;
  /** Every path's positions, keyed by `formatPath` (`models[1].capabilities.max_tokens`). */
  positions: Map<string, NodeInfo>;
  /** Paths whose value came (wholly or partly) from environment variables, with their names. */
  envVariables: Map<string, string[]>;
  problems: TreeProblem[];
  /** True when the text is not valid YAML (no value then). */
  syntaxError: boolean;
}

const MAX_ALIAS_DEPTH = 50;
const NUMBER = /^[-+]?(\d+(\.\d*)?|\.\d+)([eE][-+]?\d+)?$/;

/**
 * Parse YAML into plain data while remembering where every value came from. `${…}` is expanded
 * per scalar, after parsing, so the line and column of each value stay those of the file.
 */
export function readYaml(text: string, env: Env): YamlTree {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, merge: true, keepSourceTokens: true });
  const at = (offset: number | undefined): Position => {
    const pos = lineCounter.linePos(offset ?? 0);
    return { line: pos.line, column: pos.col };
  };
  const tree: YamlTree = { value: undefined, positions: new Map(), envVariables: new Map(), problems: [], syntaxError: false };

  if (doc.errors.length > 0) {
    tree.syntaxError = true;
    for (const error of doc.errors) {
      const message =
        error.code === "DUPLICATE_KEY"
          ? `duplicate key ${JSON.stringify(keyText(text, error.pos[0]))} (each key may appear once in a mapping)`
          : `YAML syntax error: ${error.message.replace(/\s+/g, " ").trim()}`;
      tree.problems.push({ path: "", position: at(error.pos[0]), message });
    }
    return tree;
  }

  const walk = (node: ParsedNode | Node | null | undefined, path: PathKey[], fallback: Position, depth: number, merging = false): unknown => {
    const key = formatPath(path);
    if (node === null || node === undefined) {
      setOnce(tree.positions, key, { value: fallback });
      return null;
    }
    if (isAlias(node)) {
      const target = depth < MAX_ALIAS_DEPTH ? node.resolve(doc as Document) : undefined;
      if (target === undefined) {
        tree.problems.push({ path: key, position: at(node.range?.[0]), message: `alias *${node.source} does not resolve` });
        return null;
      }
      return walk(target, path, at(node.range?.[0]), depth + 1, merging);
    }
    const position = at(node.range?.[0]);
    const info = tree.positions.get(key);
    if (info) info.value ??= position;
    else tree.positions.set(key, { value: position });
    if (isScalar(node)) return scalarValue(node.value, node.type, key, position);
    if (isSeq(node)) return node.items.map((item, i) => walk(item as ParsedNode | null, [...path, i], position, depth, merging));
    if (isMap(node)) {
      const out: Record<string, unknown> = {};
      const merges: unknown[] = [];
      for (const pair of node.items) {
        const keyNode = pair.key as ParsedNode | null;
        if (isScalar(keyNode) && (typeof keyNode.value === "symbol" || (keyNode.value === "<<" && keyNode.type === "PLAIN"))) {
          merges.push(pair.value);
          continue;
        }
        if (!isScalar(keyNode) || keyNode.value === null || typeof keyNode.value === "object") {
          tree.problems.push({ path: key, position: at(keyNode?.range?.[0]), message: "keys must be plain text" });
          continue;
        }
        const name = String(keyNode.value);
        const keyPos = at(keyNode.range?.[0]);
        const childKey = formatPath([...path, name]);
        // Merged-in keys never move the positions of keys written in the mapping itself.
        if (!merging || !tree.positions.has(childKey)) {
          const valueNode = pair.value as ParsedNode | null;
          tree.positions.set(childKey, { key: keyPos, value: valueNode ? at(valueNode.range?.[0]) : keyPos });
        }
        if (name === "__proto__") continue;
        out[name] = walk(pair.value as ParsedNode | null, [...path, name], keyPos, depth, merging);
      }
      // `<<: *base` merges: keys written in this mapping win over merged ones.
      for (const merge of merges) {
        const sources = isSeq(merge) ? merge.items : [merge];
        for (const source of sources) {
          const value = walk(source as ParsedNode, path, position, depth + 1, true);
          if (value && typeof value === "object" && !Array.isArray(value)) {
            for (const [k, v] of Object.entries(value)) if (!(k in out)) out[k] = v;
          }
        }
      }
      return out;
    }
    return null;
  };

  const scalarValue = (value: unknown, type: string | undefined, path: string, position: Position): unknown => {
    if (typeof value !== "string" || !hasEnvSyntax(value)) return value;
    const expanded = expandEnv(value, env);
    if (expanded.used.length > 0) tree.envVariables.set(path, expanded.used);
    // Values of secret-named variables are scrubbed from every message, wherever they land.
    for (const name of expanded.used) if (SECRET_ENV_NAME.test(name)) registerSecret(env[name]);
    for (const message of expanded.errors) tree.problems.push({ path, position, message });
    if (expanded.missing.length > 0) {
      for (const missing of expanded.missing) {
        tree.problems.push({
          path,
          position,
          message: missingMessage(missing.name, missing.empty),
          missingVariables: [missing.name],
        });
      }
      return undefined;
    }
    // An unquoted `${PORT}` reads as the number (or boolean) it expands to, as if written inline.
    if (type === "PLAIN") {
      const text = expanded.value.trim();
      if (NUMBER.test(text)) return Number(text);
      if (/^(true|True|TRUE|false|False|FALSE)$/.test(text)) return text.toLowerCase() === "true";
    }
    return expanded.value;
  };

  tree.value = walk(doc.contents as ParsedNode | null, [], { line: 1, column: 1 }, 0);
  return tree;
}

function missingMessage(name: string, empty: boolean): string {
  return empty
    ? `environment variable ${name} is set but empty (write \${${name}:-} to allow an empty value)`
    : `environment variable ${name} is not set (write \${${name}:-default} to give a default)`;
}

function setOnce(map: Map<string, NodeInfo>, key: string, info: NodeInfo): void {
  if (!map.has(key)) map.set(key, info);
}

/** The key text at an offset, for messages about duplicate keys. */
function keyText(text: string, offset: number): string {
  const line = text.slice(offset).split("\n")[0] ?? "";
  const match = /^\s*("([^"]*)"|'([^']*)'|[^:#]+?)\s*:/.exec(line);
  return (match?.[2] ?? match?.[3] ?? match?.[1] ?? line).trim();
}
