import { randomUUID } from "node:crypto";
import { ConfigError, type ConfigIssue, type StatsStore } from "@orchestrator-ts/core";
import {
  type ArmContribution,
  type Contribution,
  addContribution,
  decodeContribution,
  emptyArmContribution,
  encodeContribution,
} from "./shared-state";

// Learning together across processes (ContextualSelector.share): publish what this process's
// own outcomes added, read the others', and add the change since the last exchange.

/** How `ContextualSelector.share` exchanges what is learnt. */
export interface ShareOptions {
  /**
   * This process's name on the channel. Give each worker a stable one (e.g. `${hostname}-${index}`)
   * so that a restarted worker resumes its own contribution; default a random UUID (then each
   * process start adds a field to the shared hash).
   */
  participant?: string;
  /** Selectors on the same channel learn together. Default `"contextual"`. */
  channel?: string;
  /** How often to publish and pull. Default 1000 ms; 0 = only on `sync()`. */
  intervalMs?: number;
}

/** A running share (see `ContextualSelector.share`). */
export interface SharedLearning {
  readonly participant: string;
  readonly channel: string;
  /** Other participants' contributions skipped at the last exchange, and why. */
  readonly problems: readonly { participant: string; message: string }[];
  /** Publish now and pull the others' contributions; `false` when the store could not be reached. Never rejects. */
  sync(): Promise<boolean>;
  /** Publish a last time and stop. */
  close(): Promise<void>;
}

/** A running share's bookkeeping: this process's own contribution and the others' last seen. */
export interface Sharing {
  own: Contribution;
  others: Contribution;
  resumed: boolean;
}

/** What sharing needs of a selector. */
export interface ShareTarget {
  dimensions(): number;
  current(): Sharing | undefined;
  attach(sharing: Sharing | undefined): void;
  /** Add (`1`) or take back (`-1`) a contribution to the selector's predictors and costs. */
  apply(c: Contribution, sign: 1 | -1): void;
}

/** This process's contribution for `model` (created empty on first use). */
export function ownContribution(sharing: Sharing, model: string, dimensions: number): ArmContribution {
  let c = sharing.own.get(model);
  if (!c) {
    c = emptyArmContribution(dimensions);
    sharing.own.set(model, c);
  }
  return c;
}

/** See `ContextualSelector.share`. */
export async function shareLearning(
  target: ShareTarget,
  store: Pick<StatsStore, "exchangeState">,
  options: ShareOptions = {},
): Promise<SharedLearning> {
  const issues: ConfigIssue[] = [];
  if (typeof store?.exchangeState !== "function")
    issues.push({
      path: "store",
      message:
        "this stats store cannot exchange learned state (it has no exchangeState): use MemoryStatsStore or RedisStatsStore",
    });
  if (target.current())
    issues.push({ path: "share", message: "this selector is already shared; close the running share first" });
  const intervalMs = options.intervalMs ?? 1_000;
  if (!(Number.isFinite(intervalMs) && intervalMs >= 0))
    issues.push({
      path: "intervalMs",
      message: `must be a non-negative number of milliseconds, got ${String(options.intervalMs)}`,
    });
  if (options.participant !== undefined && !(typeof options.participant === "string" && options.participant.length > 0))
    issues.push({ path: "participant", message: "must be a non-empty string" });
  if (issues.length > 0) throw new ConfigError(issues, { title: "Cannot share ContextualSelector state" });
  const exchange = (store.exchangeState as NonNullable<StatsStore["exchangeState"]>).bind(store);
  const participant = options.participant ?? randomUUID();
  const channel = options.channel ?? "contextual";
  const dimensions = target.dimensions();
  const sharing: Sharing = { own: new Map(), others: new Map(), resumed: false };
  target.attach(sharing);
  let problems: { participant: string; message: string }[] = [];
  const once = async (): Promise<boolean> => {
    // Until this participant's stored contribution has been read (and resumed), only read.
    const states = await exchange(
      channel,
      participant,
      sharing.resumed ? encodeContribution(sharing.own, dimensions) : undefined,
    ).catch(() => undefined);
    if (!states || target.current() !== sharing) return false;
    const others: Contribution = new Map();
    const found: typeof problems = [];
    for (const [who, text] of states) {
      if (who === participant && sharing.resumed) continue;
      let c: Contribution;
      try {
        c = decodeContribution(text, dimensions);
      } catch (error) {
        found.push({ participant: who, message: error instanceof Error ? error.message : String(error) });
        continue;
      }
      if (who === participant) {
        addContribution(sharing.own, c, dimensions);
        target.apply(c, 1);
      } else addContribution(others, c, dimensions);
    }
    problems = found;
    const wasResumed = sharing.resumed;
    sharing.resumed = true;
    target.apply(sharing.others, -1);
    target.apply(others, 1);
    sharing.others = others;
    // The first read resumed; publish at once so the others see this participant.
    return wasResumed ? true : once();
  };
  let running: Promise<boolean> | undefined;
  const sync = (): Promise<boolean> => {
    running ??= once().finally(() => {
      running = undefined;
    });
    return running;
  };
  await sync();
  const timer = intervalMs > 0 ? setInterval(() => void sync(), intervalMs) : undefined;
  timer?.unref();
  return {
    participant,
    channel,
    get problems() {
      return problems;
    },
    sync,
    close: async () => {
      if (timer) clearInterval(timer);
      if (target.current() !== sharing) return;
      await running;
      await sync();
      target.attach(undefined);
    },
  };
}
