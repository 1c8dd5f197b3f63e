import type { BuildModelsOptions } from "@orchestrator-ts/core";
import type { Env } from "./env";

export interface ParseOptions extends BuildModelsOptions {
  /** Variables for `${…}`. Default `process.env`. */
  env?: Env;
  /** Name shown in errors and stored as `config.source`. Default `<inline>`. */
  source?: string;
  /**
   * A variable missing from a model's `config:` block marks that model `unavailable` instead of
   * failing the whole file. Everything else is still an error.
   */
  lenient?: boolean;
  /**
   * The largest config accepted, in bytes (default 256 KiB, `MAX_CONFIG_BYTES`). A larger one is a
   * `ConfigError` before it is parsed (a file is not even read).
   */
  maxBytes?: number;
}
