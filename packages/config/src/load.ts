import { open } from "node:fs/promises";
import { ConfigError, type ConfigIssue, type ModelConfig, SpecificationVersionError } from "@orchestrator-ts/core";
import { sortIssues } from "./issues";
import { MAX_CONFIG_BYTES, analyzeModelConfig, sizeMessage } from "./parse";
import { collectProviders, providerMap } from "./providers";
import type { ParseOptions } from "./types";
import { validateEntryConfig } from "./validate-config";

/** How `loadModelConfig` reads a file: the parse options, with the source taken from the path. */
export interface LoadOptions extends Omit<ParseOptions, "source"> {
  /**
   * Import the providers the file names by package or file path, to check that each is a plugin
   * and to check its `config:` block (default true). **Importing runs that code**: a config that
   * names `./provider.mjs` or a package runs it when loaded. With `false` they are only located
   * (a missing file or package is still an error) and their `config:` blocks are not checked.
   */
  loadPlugins?: boolean;
}

const TITLE = "Invalid model configuration";

/**
 * Read and validate a model config file (the seed's `load_model_config`). Like
 * `parseModelConfig`, and in addition imports every provider named by package or file (which runs
 * that code; `loadPlugins: false` only locates them), so a missing package, or one that is not a
 * plugin, is reported now at its line, and checks those plugins' `config:` blocks.
 */
export async function loadModelConfig(path: string, options: LoadOptions = {}): Promise<ModelConfig> {
  const maxBytes = options.maxBytes ?? MAX_CONFIG_BYTES;
  let text: string;
  try {
    text = await readBounded(path, maxBytes);
  } catch (error) {
    if (ConfigError.isInstance(error)) throw error;
    const code = (error as NodeJS.ErrnoException).code;
    const reason =
      code === "ENOENT"
        ? "no such file"
        : code === "EISDIR"
          ? "it is a directory"
          : error instanceof Error
            ? error.message
            : String(error);
    throw new ConfigError([{ path: "", message: `cannot read the config file: ${reason}`, source: path }], {
      title: TITLE,
      cause: error,
    });
  }
  const { config, issues } = analyzeModelConfig(text, { ...options, source: path });
  if (config === undefined) throw new ConfigError(sortIssues(issues), { title: TITLE });

  const {
    plugins,
    issues: providerIssues,
    specificationIssues,
  } = await collectProviders(config, options, options.providers !== undefined, options.loadPlugins ?? true);
  // A plugin package built for another version of the contract: nothing else about it can be checked.
  if (specificationIssues.length > 0) throw new SpecificationVersionError(sortIssues(specificationIssues));
  const checkedByParse = providerMap(options.providers);
  const configIssues: ConfigIssue[] = [...providerIssues];
  config.models.forEach((entry, i) => {
    const plugin = plugins.get(entry.provider);
    if (plugin && !entry.unavailable && !checkedByParse.has(entry.provider))
      configIssues.push(...validateEntryConfig(plugin, entry, i).issues);
  });
  if (configIssues.length > 0) throw new ConfigError(sortIssues(configIssues), { title: TITLE });
  return config;
}

/**
 * The file's text, read no further than `maxBytes`: a huge file is refused from its size without
 * being read, and a pipe or device (`/dev/zero`) cannot feed the parser without end.
 */
async function readBounded(path: string, maxBytes: number): Promise<string> {
  const handle = await open(path, "r");
  try {
    const stat = await handle.stat();
    if (stat.isFile() && stat.size > maxBytes) throw tooLarge(path, stat.size, maxBytes);
    const chunks: Buffer[] = [];
    let total = 0;
    for (;;) {
      const chunk = Buffer.allocUnsafe(64 * 1024);
      const { bytesRead } = await handle.read(chunk, 0, chunk.length, null);
      if (bytesRead === 0) break;
      chunks.push(chunk.subarray(0, bytesRead));
      total += bytesRead;
      if (total > maxBytes) throw tooLarge(path, undefined, maxBytes);
    }
    return Buffer.concat(chunks, total).toString("utf8");
  } finally {
    await handle.close();
  }
}

function tooLarge(path: string, size: number | undefined, maxBytes: number): ConfigError {
  return new ConfigError([{ path: "", message: sizeMessage(size, maxBytes), source: path }], { title: TITLE });
}
