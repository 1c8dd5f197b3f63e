#!/usr/bin/env node
// No import circle between source files: a file that (through any chain of relative imports,
// type-only ones included) imports itself cannot be read on its own, and splitting it later
// means untangling the circle first. Walks every package's src/ (tests included: a test is a
// file too) and tools/bench/src, and prints each circle as the chain of files that closes it.
//   node tools/scripts/check-import-cycles.mjs [root] [--only <folder>]
// --only checks the files of one package (its folder), as each package's lint does.
import { existsSync, readFileSync, readdirSync, statSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";

const args = process.argv.slice(2);
const onlyAt = args.indexOf("--only");
const only = onlyAt >= 0 ? resolve(args.splice(onlyAt, 2)[1] ?? ".") : undefined;
const root = resolve(args[0] ?? join(import.meta.dirname, "../.."));

function sourceFiles(dir) {
  const out = [];
  if (!existsSync(dir)) return out;
  for (const name of readdirSync(dir)) {
    if (name === "node_modules" || name === "dist") continue;
    const full = join(dir, name);
    if (statSync(full).isDirectory()) out.push(...sourceFiles(full));
    else if (/\.(ts|mts|cts)$/.test(name) && !name.endsWith(".d.ts")) out.push(full);
  }
  return out;
}

const roots = [];
for (const group of ["packages", "examples"]) {
  const dir = join(root, group);
  if (!existsSync(dir)) continue;
  for (const name of readdirSync(dir)) roots.push(join(dir, name, "src"));
}
roots.push(join(root, "tools/bench/src"), join(root, "docs"));
if (only !== undefined) roots.splice(0, roots.length, existsSync(join(only, "src")) ? join(only, "src") : only);

// Static imports and re-exports (`import … from`, `export … from`, `import "x"`) and dynamic `import("x")`.
const IMPORT =
  /(?:^|[;\n}])\s*(?:import|export)\s+(?:type\s+)?(?:[^'";]*?\sfrom\s*)?["']([^"']+)["']|\bimport\(\s*["']([^"']+)["']\s*\)/g;

function stripComments(text) {
  return text.replace(/\/\*[\s\S]*?\*\//g, "").replace(/(^|[^:"'`\\])\/\/.*$/gm, "$1");
}

function resolveImport(from, spec) {
  const base = resolve(dirname(from), spec);
  const candidates = [base, `${base}.ts`, `${base}.mts`, `${base}.cts`, join(base, "index.ts")];
  if (/\.(m|c)?js$/.test(base)) candidates.push(base.replace(/\.(m|c)?js$/, ".ts"));
  for (const c of candidates) if (existsSync(c) && statSync(c).isFile()) return c;
  return undefined;
}

const graph = new Map();
for (const dir of roots) {
  for (const file of sourceFiles(dir)) {
    const edges = new Set();
    for (const m of stripComments(readFileSync(file, "utf8")).matchAll(IMPORT)) {
      const spec = m[1] ?? m[2];
      if (!spec?.startsWith(".")) continue;
      const target = resolveImport(file, spec);
      if (target && target !== file) edges.add(target);
    }
    graph.set(file, [...edges]);
  }
}

// Tarjan's strongly connected components: every component with more than one file is a circle.
let index = 0;
const indices = new Map();
const low = new Map();
const stack = [];
const onStack = new Set();
const components = [];
function connect(v) {
  // Iterative, so a long chain of imports cannot overflow the call stack.
  const work = [[v, 0]];
  indices.set(v, index);
  low.set(v, index);
  index++;
  stack.push(v);
  onStack.add(v);
  while (work.length > 0) {
    const frame = work[work.length - 1];
    const [node, i] = frame;
    const edges = graph.get(node) ?? [];
    if (i < edges.length) {
      frame[1]++;
      const w = edges[i];
      if (!graph.has(w)) continue;
      if (!indices.has(w)) {
        indices.set(w, index);
        low.set(w, index);
        index++;
        stack.push(w);
        onStack.add(w);
        work.push([w, 0]);
      } else if (onStack.has(w)) low.set(node, Math.min(low.get(node), indices.get(w)));
      continue;
    }
    work.pop();
    if (work.length > 0) {
      const parent = work[work.length - 1][0];
      low.set(parent, Math.min(low.get(parent), low.get(node)));
    }
    if (low.get(node) === indices.get(node)) {
      const component = [];
      let w;
      do {
        w = stack.pop();
        onStack.delete(w);
        component.push(w);
      } while (w !== node);
      if (component.length > 1) components.push(component);
    }
  }
}
for (const v of graph.keys()) if (!indices.has(v)) connect(v);

/** One concrete circle inside a component, for the message: a shortest path back to the start. */
function circleIn(component) {
  const members = new Set(component);
  const start = [...component].sort()[0];
  const previous = new Map([[start, undefined]]);
  const queue = [start];
  while (queue.length > 0) {
    const node = queue.shift();
    for (const next of graph.get(node) ?? []) {
      if (!members.has(next)) continue;
      if (next === start) {
        const path = [start];
        for (let n = node; n !== start; n = previous.get(n)) path.splice(1, 0, n);
        return [...path, start];
      }
      if (!previous.has(next)) {
        previous.set(next, node);
        queue.push(next);
      }
    }
  }
  return component;
}

if (components.length > 0) {
  console.error(`check-import-cycles: ${components.length} import circle(s) between files:`);
  for (const component of components)
    console.error(
      `  ${circleIn(component)
        .map((f) => relative(root, f))
        .join(" → ")}`,
    );
  process.exit(1);
}
console.log(`check-import-cycles: ${graph.size} files, no import circle`);
