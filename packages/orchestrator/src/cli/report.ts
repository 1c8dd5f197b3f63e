import { ConfigError, NoEligibleModelError, OrchestratorError, formatConfigIssue } from "@orchestrator-ts/core";

// What every command shares: exit codes, the output channels, usage errors and how an error is shown.

export const EXIT = { ok: 0, failure: 1, usage: 2, config: 3, noModel: 4 } as const;

export interface Io {
  out: (text: string) => void;
  err: (text: string) => void;
}

/** A usage mistake: exit code 2 and the command's help. */
export class UsageError extends Error {}

export function report(error: unknown, io: Io, json: boolean): number {
  if (error instanceof UsageError) {
    io.err(`usage error: ${error.message}\nRun "orchestrator --help".`);
    return EXIT.usage;
  }
  const code = ConfigError.isInstance(error)
    ? EXIT.config
    : NoEligibleModelError.isInstance(error)
      ? EXIT.noModel
      : EXIT.failure;
  if (json) {
    io.out(
      JSON.stringify(
        { error: OrchestratorError.isInstance(error) ? error.toJSON() : { message: String(error) } },
        null,
        2,
      ),
    );
  } else if (ConfigError.isInstance(error)) {
    const total = error.totalIssues ?? error.issues.length;
    io.err(`${total === 1 ? "Config error" : `${total} config errors`}:`);
    for (const issue of error.issues) io.err(`  ${formatConfigIssue(issue)}`);
    // The error keeps the first few; a file with one typo repeated 31,000 times printed 4.2 MB.
    if (total > error.issues.length) io.err(`  … and ${total - error.issues.length} more`);
  } else {
    io.err(`error: ${error instanceof Error ? error.message : String(error)}`);
  }
  return code;
}
