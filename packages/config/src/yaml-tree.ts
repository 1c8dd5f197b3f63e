import { formatPath } from "@orchestrator-ts/core/internal";
import {
  type CST,
  Composer,
  type Document,
  LineCounter,
  type Node,
  type ParsedNode,
  Parser,
  YAMLParseError,
  type Alias,
  isAlias,
  isMap,
  isScalar,
  isSeq,
  visit,
} from "yaml";
import { registerSecret } from "@orchestrator-ts/core";
import { type Env, type ExpansionBudget, SECRET_ENV_NAME, expandEnv, hasEnvSyntax, newExpansionBudget } from "./env";

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
/** How deep mappings and lists may nest (a config needs about 6); deeper is refused before it can exhaust the stack. */
export const MAX_NESTING = 64;
/**
 * How many values aliases (`*a`, `<<: *a`) may add in one file. Each use of an anchor copies it:
 * nested anchors multiply (a file under 1 KB can stand for billions of values), so expansion is
 * counted and the file refused past this. Sharing a block of defaults across thousands of models stays far below it.
 */
export const MAX_ALIAS_VALUES = 50_000;
const NUMBER = /^[-+]?(\d+(\.\d*)?|\.\d+)([eE][-+]?\d+)?$/;

/**
 * Parse YAML into plain data while remembering where every value came from. `${…}` is expanded
 * per scalar, after parsing, so the line and column of each value stay those of the file.
 */
export function readYaml(text: string, env: Env, budget: ExpansionBudget = newExpansionBudget()): YamlTree {
  const lineCounter = new LineCounter();
  const at = (offset: number | undefined): Position => {
    const pos = lineCounter.linePos(offset ?? 0);
    return { line: pos.line, column: pos.col };
  };
  const tree: YamlTree = {
    value: undefined,
    positions: new Map(),
    envVariables: new Map(),
    problems: [],
    syntaxError: false,
  };
  const refuse = (position: Position, message: string, path = ""): YamlTree => {
    tree.syntaxError = true;
    tree.value = undefined;
    tree.problems = [{ path, position, message }];
    return tree;
  };

  // Parsed to tokens first (the parser keeps its own stack), and the nesting checked before the
  // recursive composer runs: 2,000 levels used to end in a RangeError from deep inside it.
  const tokens = [...new Parser(lineCounter.addNewLine).parse(text)];
  const tooDeep = deepestCollection(tokens, MAX_NESTING);
  if (tooDeep !== undefined) return refuse(at(tooDeep), nestingMessage());
  let doc: Document.Parsed | undefined;
  try {
    for (const next of new Composer({ prettyErrors: false, merge: true }).compose(tokens, true, text.length)) {
      if (!doc) doc = next;
      else {
        doc.errors.push(
          new YAMLParseError(
            [next.range[0], next.range[1]],
            "MULTIPLE_DOCS",
            "Source contains multiple documents; please use YAML.parseAllDocuments()",
          ),
        );
        break;
      }
    }
  } catch (error) {
    if (error instanceof RangeError) return refuse({ line: 1, column: 1 }, nestingMessage());
    throw error;
  }
  if (!doc) return tree;

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

  // Every alias's anchor, found in one pass: the library's own resolve() walks the whole document
  // per call, which made a file of many aliases quadratic. Same rule: the last anchor of that name before the alias.
  const aliasTargets = new Map<Alias, Node>();
  const anchors = new Map<string, Node>();
  visit(doc, {
    Node: (_key, node) => {
      if (isAlias(node)) {
        const target = anchors.get(node.source);
        if (target) aliasTargets.set(node, target);
      } else if (node.anchor) anchors.set(node.anchor, node);
    },
  });
  // Where the alias being expanded at the top was written, for the message when the budget runs out.
  let expanding: { position: Position; path: string } | undefined;
  let aliasValues = 0;
  const walk = (
    node: ParsedNode | Node | null | undefined,
    path: PathKey[],
    fallback: Position,
    depth: number,
    merging = false,
  ): unknown => {
    if (path.length > MAX_NESTING)
      throw new Refused(fallback, nestingMessage(), formatPath(path.slice(0, MAX_NESTING)));
    if (depth > 0 && ++aliasValues > MAX_ALIAS_VALUES && expanding) {
      throw new Refused(
        expanding.position,
        `aliases expand to more than ${MAX_ALIAS_VALUES.toLocaleString("en-US")} values (each *alias copies its anchor, and nested anchors multiply): the file is refused`,
        expanding.path,
      );
    }
    const key = formatPath(path);
    if (node === null || node === undefined) {
      setOnce(tree.positions, key, { value: fallback });
      return null;
    }
    if (isAlias(node)) {
      const target = depth < MAX_ALIAS_DEPTH ? aliasTargets.get(node) : undefined;
      if (target === undefined) {
        tree.problems.push({
          path: key,
          position: at(node.range?.[0]),
          message: `alias *${node.source} does not resolve`,
        });
        return null;
      }
      if (depth === 0) expanding = { position: at(node.range?.[0]), path: key };
      return walk(target, path, at(node.range?.[0]), depth + 1, merging);
    }
    const position = at(node.range?.[0]);
    const info = tree.positions.get(key);
    if (info) info.value ??= position;
    else tree.positions.set(key, { value: position });
    if (isScalar(node)) return scalarValue(node.value, node.type, key, position);
    if (isSeq(node))
      return node.items.map((item, i) => walk(item as ParsedNode | null, [...path, i], position, depth, merging));
    if (isMap(node)) {
      const out: Record<string, unknown> = {};
      const merges: unknown[] = [];
      for (const pair of node.items) {
        const keyNode = pair.key as ParsedNode | null;
        if (
          isScalar(keyNode) &&
          (typeof keyNode.value === "symbol" || (keyNode.value === "<<" && keyNode.type === "PLAIN"))
        ) {
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
        // Defined, not assigned: `__proto__` (or any name) is a plain key here, never the object's prototype.
        setOwn(out, name, walk(pair.value as ParsedNode | null, [...path, name], keyPos, depth, merging));
      }
      // `<<: *base` merges: keys written in this mapping win over merged ones.
      for (const merge of merges) {
        const sources = isSeq(merge) ? merge.items : [merge];
        for (const source of sources) {
          if (depth === 0)
            expanding = { position: at((source as ParsedNode | null)?.range?.[0] ?? node.range?.[0]), path: key };
          const value = walk(source as ParsedNode, path, position, depth + 1, true);
          if (value && typeof value === "object" && !Array.isArray(value)) {
            for (const [k, v] of Object.entries(value)) if (!Object.hasOwn(out, k)) setOwn(out, k, v);
          }
        }
      }
      return out;
    }
    return null;
  };

  const scalarValue = (value: unknown, type: string | undefined, path: string, position: Position): unknown => {
    if (typeof value !== "string" || !hasEnvSyntax(value)) return value;
    const expanded = expandEnv(value, env, budget);
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

  try {
    tree.value = walk(doc.contents as ParsedNode | null, [], { line: 1, column: 1 }, 0);
  } catch (error) {
    if (error instanceof Refused) return refuse(error.position, error.message, error.path);
    // A stack exhausted anyway (the caller was already deep in its own): still a config error.
    if (error instanceof RangeError) return refuse({ line: 1, column: 1 }, nestingMessage());
    throw error;
  }
  return tree;
}

/** Thrown inside the walk to stop at once: the whole file is refused with one problem. */
class Refused extends Error {
  constructor(
    readonly position: Position,
    message: string,
    readonly path: string,
  ) {
    super(message);
  }
}

function nestingMessage(): string {
  return `the YAML is nested more than ${MAX_NESTING} levels deep (mappings and lists inside each other): the file is refused`;
}

/** `target[key] = value`, except that `__proto__` becomes an own key instead of the prototype. */
export function setOwn(target: Record<string, unknown>, key: string, value: unknown): void {
  if (key === "__proto__")
    Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
  else target[key] = value;
}

/** The offset of the first collection nested deeper than `limit`, walking the tokens without recursion. */
function deepestCollection(tokens: readonly CST.Token[], limit: number): number | undefined {
  const stack: [CST.Token, number][] = tokens.map((token) => [token, 0]);
  for (let next = stack.pop(); next !== undefined; next = stack.pop()) {
    const [token, depth] = next;
    if (token.type === "document") {
      if (token.value) stack.push([token.value, depth]);
    } else if (token.type === "block-map" || token.type === "block-seq" || token.type === "flow-collection") {
      if (depth >= limit) return token.offset;
      for (const item of token.items) {
        if ("key" in item && item.key) stack.push([item.key, depth + 1]);
        if (item.value) stack.push([item.value, depth + 1]);
      }
    }
  }
  return undefined;
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
  // Only this line: slicing the rest of the file per duplicate key was quadratic in big files.
  const end = text.indexOf("\n", offset);
  const line = text.slice(offset, end < 0 ? undefined : end);
  const match = /^\s*("([^"]*)"|'([^']*)'|[^:#]+?)\s*:/.exec(line);
  return (match?.[2] ?? match?.[3] ?? match?.[1] ?? line).trim();
}
