/**
 * Which module system a build is for: `true` in a package's CommonJS build, `false` in its ESM build
 * (esbuild's define, tools/tsup.shared.ts), so that the other branch is left out of each. Undefined in
 * the sources, which run as ES modules (vitest, tsx): read it as
 * `typeof __ORCHESTRATOR_CJS__ === "boolean" && __ORCHESTRATOR_CJS__`.
 */
declare const __ORCHESTRATOR_CJS__: boolean | undefined;
