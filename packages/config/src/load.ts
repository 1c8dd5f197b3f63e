import { readFile } from "node:fs/promises";
import { ConfigError, type ConfigIssue } from "@orchestrator-ts/core";
import { analyzeModelConfig, sortIssues } from "./parse";
import { collectProviders, providerMap } from "./providers";
import type { ModelConfig, ParseOptions } from "./types";
import { validateEntryConfig } from "./validate-config";

export type LoadOptions = Omit<ParseOptions, "source">;

const TITLE = "Invalid model configuration";

/**
 * Read and validate a model config file (the seed's `load_model_config`). Like
 * `parseModelConfig`, and in addition imports every provider named by package or file, so a
 * missing package, or one that is not a plugin, is reported now at its line, and checks those
 * plugins' `config:` blocks.
 */
export async function loadModelConfig(path: string, options: LoadOptions = {}): Promise<ModelConfig> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const reason = code === "ENOENT" ? "no such file" : code === "EISDIR" ? "it is a directory" : error instanceof Error ? error.message : String(error);
    throw new ConfigError([{ path: "", message: `cannot read the config file: ${reason}`, source: path }], { title: TITLE, cause: error });
  }
  const { config, issues } = analyzeModelConfig(text, { ...options, source: path });
  if (config === undefined) throw new ConfigError(sortIssues(issues), { title: TITLE });

  const { plugins, issues: providerIssues } = await collectProviders(config, options, options.providers !== undefined);
  const checkedByParse = providerMap(options.providers);
  const configIssues: ConfigIssue[] = [...providerIssues];
  config.models.forEach((entry, i) => {
    const plugin = plugins.get(entry.provider);
    if (plugin && !entry.unavailable && !checkedByParse.has(entry.provider)) configIssues.push(...validateEntryConfig(plugin, entry, i).issues);
  });
  if (configIssues.length > 0) throw new ConfigError(sortIssues(configIssues), { title: TITLE });
  return config;
}
