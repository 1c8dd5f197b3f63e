// The text of `orchestrator help` and of each command's --help.
import { defaultModelDir } from "../default-config";

export const HELP: Record<string, string> = {
  main: `orchestrator — pick, call and learn across AI models from one config

Usage: orchestrator <command> [options]

Commands:
  demo        run the embedded default (local llama.cpp models, no API keys) on a small workload
  generate    answer one prompt through the registry
  stream      stream one answer through the registry
  select      show which model the registry would pick, and why
  models      list the configured models (and the ones that are unavailable)
  health      check every model now and print its health
  validate    check a config file strictly, with line-precise errors
  replay      replay routing data (RouterBench CSV) through a selector policy
  serve       serve the models over HTTP, OpenAI-compatible (a gateway any language can call)
  keys        create, list and revoke a running gateway's virtual keys; its spend
  dashboard   the /ui dashboard for applications that use the library (state shared through Redis)

Common options:
  -c, --config <file>   the YAML config (default ./models.yaml, else the embedded default)
      --json            machine-readable output
  -h, --help            help for a command

Exit codes: 0 ok, 1 failure, 2 usage error, 3 config error, 4 no eligible model.`,
  demo: `orchestrator demo [--config <file>] [--prompts <n>] [--max-tokens <n>] [--json]

Runs a small workload through the orchestrator: registry with the UCB selector, memory cache,
health monitor. With no config it writes three tiny local GGUF models (random weights) to
${defaultModelDir()} and uses them; cloud models join when their key variable is set.`,
  generate: `orchestrator generate <prompt> [options]

Options:
  -m, --model <name>        call this model instead of selecting one
      --max-tokens <n> --temperature <t> --seed <n> --system <text> --task <tag> --no-cache
  Requirements: --capability <name> (repeatable) --max-cost <usd> --min-speed <tok/s>
      --min-context <tokens> --max-latency <ms> --provider <name> --exclude-provider <name>
      --require-task <tag> --local-only`,
  stream: `orchestrator stream <prompt> [options]   (same options as generate)`,
  select: `orchestrator select [--prompt <text>] [requirements] [--json]

Prints the decision the registry would make: every candidate's score (mean reward, bonus,
trials) and every excluded model with its reason. Requirements as for generate.`,
  models: `orchestrator models [--config <file>] [--json]`,
  health: `orchestrator health [--config <file>] [--json]

Runs every model's health check now (free endpoints: model lists, tags; a loaded local model).
Exit code 1 when a configured model is not healthy (degraded or unhealthy); models left out for a
missing key are listed as unavailable and do not change the exit code.`,
  validate: `orchestrator validate [--config <file>] [--load-plugins] [--json]

Parses the config strictly: a missing environment variable is an error with its line, as is
every unknown key, bad value and unknown provider, and a built-in provider whose npm package (its
SDK) is not installed. It then creates the models as serve would (no request is sent, no weights
load), so a llama.cpp model_path that does not exist is an error too. Exit code 3 when the file is
invalid. With no
file (no --config, no ./models.yaml) it checks the embedded default, whose cloud models are
optional: one whose key variable is not set is listed as unavailable, as the demo does.
A provider named by file or package is only located, never run: --load-plugins imports it
(running its code) to check that it is a plugin and to check its config block.`,
  replay: `orchestrator replay --data <csv|dir|log.jsonl> [--split test] [--policy <json|file>] [--budget <usd>] [--seeds <n>] [--cv <folds>] [--out <dir>] [--json]

Replays full-information routing data (RouterBench-style CSVs: every model's recorded quality and
cost per prompt) through a selector policy, in random orders, and prints accuracy, cost per prompt,
regret against the best fixed model, the baselines and AIQ; --out writes JSON and an SVG
quality-vs-cost curve. Given a decision log (.jsonl), estimates the policy off-policy (SNIPS).
Default policy: contextual selector on the task tag (LinUCB α=0.3) warm-started on --split train.
A cascade policy ("type": "cascade") is replayed on the models' recorded answers; with --cv <k>
it is cross-validated on k folds of --split (default train, the split it is chosen on): on each
held-out fold, paced at its budget, against the best per-task mixture of single models at that
budget fitted on the other folds; prints the gain with its standard error.`,
};
