import type { SelectorEvent } from "@orchestrator-ts/core";
import { LruMap } from "@orchestrator-ts/core/internal";
import { DEFAULT_MAX_TASKS } from "./stats-store";

/** A reusable out-parameter: reading statistics allocates nothing. */
export interface ArmView {
  n: number;
  s: number;
  s2: number;
}

interface Arm {
  n: number;
  s: number;
  s2: number;
  /** Step up to which `n`, `s`, `s2` are discounted (discount mode). */
  step: number;
}

interface WindowEvent {
  step: number;
  r: number;
  arms: Arm[];
  id: string;
}

export type ForgetOptions = { discount: number; window?: undefined } | { window: number; discount?: undefined };

/**
 * Statistics that forget, for providers whose quality changes over time. Either every past
 * outcome weighs `discount^age` (discounted UCB), or only the last `window` outcomes count
 * (sliding-window UCB). Age is counted in outcomes seen by this selector, across all models, so a
 * model that is no longer chosen also fades and gets re-explored.
 *
 * This view is kept by the selector in this process (fed through `update`), while the registry's
 * `StatsStore` keeps the cumulative statistics that processes share.
 */
export class DecayedArms {
  readonly discount: number | undefined;
  readonly window: number | undefined;
  #t = 0;
  readonly #overall = new Map<string, Arm>();
  // Bounded like the stats store: the task tags least recently seen in an outcome are forgotten.
  readonly #tasks = new LruMap<string, Map<string, Arm>>(DEFAULT_MAX_TASKS);
  // discount mode: selectionId → step of its outcome, to weigh late feedback by its age
  readonly #steps = new LruMap<string, { step: number; arms: Arm[] }>(10_000);
  // window mode: outcomes inside the window, oldest first, and by selection id for feedback
  #events: WindowEvent[] = [];
  #head = 0;
  readonly #byId = new Map<string, WindowEvent>();

  constructor(options: ForgetOptions) {
    this.discount = options.discount;
    this.window = options.window;
  }

  /** The view a selector keeps when its options ask to forget (`discount` wins over `window`); else none. */
  static forOptions(options: { discount?: number | undefined; window?: number | undefined }): DecayedArms | undefined {
    if (options.discount !== undefined) return new DecayedArms({ discount: options.discount });
    if (options.window !== undefined) return new DecayedArms({ window: options.window });
    return undefined;
  }

  /** A selector's `update` event: an outcome counts, late feedback corrects its reward. */
  apply(event: SelectorEvent): void {
    if (event.type === "outcome") this.outcome(event.selectionId, event.model, event.task, event.reward);
    else this.feedback(event.selectionId, event.previousReward, event.reward);
  }

  get step(): number {
    return this.#t;
  }

  #arm(model: string, scope: string | undefined, create: boolean): Arm | undefined {
    let map = this.#overall;
    if (scope !== undefined) {
      // Reads (selection) do not make a task recent; outcomes and feedback do.
      let scoped = create ? this.#tasks.get(scope) : this.#tasks.peek(scope);
      if (!scoped) {
        if (!create) return undefined;
        scoped = new Map();
        this.#tasks.set(scope, scoped);
      }
      map = scoped;
    }
    let arm = map.get(model);
    if (!arm && create) {
      arm = { n: 0, s: 0, s2: 0, step: this.#t };
      map.set(model, arm);
    }
    return arm;
  }

  /** Fill `out` with the forgetting statistics of (model, scope); false when there are none. */
  read(model: string, scope: string | undefined, out: ArmView): boolean {
    const arm = this.#arm(model, scope, false);
    if (!arm) {
      out.n = out.s = out.s2 = 0;
      return false;
    }
    if (this.discount !== undefined) {
      const f = arm.step === this.#t ? 1 : this.discount ** (this.#t - arm.step);
      out.n = arm.n * f;
      out.s = arm.s * f;
      out.s2 = arm.s2 * f;
    } else {
      out.n = arm.n;
      out.s = arm.s;
      out.s2 = arm.s2;
    }
    return true;
  }

  #decay(arm: Arm): void {
    if (this.discount === undefined || arm.step === this.#t) return;
    const f = this.discount ** (this.#t - arm.step);
    arm.n *= f;
    arm.s *= f;
    arm.s2 *= f;
    arm.step = this.#t;
  }

  outcome(selectionId: string, model: string, task: string | undefined, reward: number): void {
    const arms = [this.#arm(model, undefined, true) as Arm];
    if (task !== undefined) arms.push(this.#arm(model, task, true) as Arm);
    for (const arm of arms) {
      this.#decay(arm);
      arm.n += 1;
      arm.s += reward;
      arm.s2 += reward * reward;
    }
    if (this.window !== undefined) {
      const event: WindowEvent = { step: this.#t, r: reward, arms, id: selectionId };
      this.#events.push(event);
      this.#byId.set(selectionId, event);
    } else {
      this.#steps.set(selectionId, { step: this.#t, arms });
    }
    this.#t++;
    if (this.window !== undefined) this.#evict();
  }

  feedback(selectionId: string, previousReward: number, reward: number): void {
    const dr = reward - previousReward;
    const dr2 = reward * reward - previousReward * previousReward;
    if (this.window !== undefined) {
      const event = this.#byId.get(selectionId);
      if (!event) return; // already out of the window: nothing to correct
      event.r = reward;
      for (const arm of event.arms) {
        arm.s += dr;
        arm.s2 += dr2;
      }
      return;
    }
    const entry = this.#steps.get(selectionId);
    if (!entry) return;
    const weight = (this.discount as number) ** (this.#t - entry.step);
    for (const arm of entry.arms) {
      this.#decay(arm);
      arm.s += dr * weight;
      arm.s2 += dr2 * weight;
    }
  }

  #evict(): void {
    const oldest = this.#t - (this.window as number);
    while (this.#head < this.#events.length) {
      const event = this.#events[this.#head] as WindowEvent;
      if (event.step >= oldest) break;
      for (const arm of event.arms) {
        arm.n -= 1;
        arm.s -= event.r;
        arm.s2 -= event.r * event.r;
        // Floating-point residue must not leave a ghost trial or a negative sum.
        if (arm.n <= 0) arm.n = arm.s = arm.s2 = 0;
      }
      this.#byId.delete(event.id);
      this.#head++;
    }
    if (this.#head > 1024 && this.#head * 2 > this.#events.length) {
      this.#events = this.#events.slice(this.#head);
      this.#head = 0;
    }
  }

  reset(): void {
    this.#t = 0;
    this.#overall.clear();
    this.#tasks.clear();
    this.#steps.clear();
    this.#events = [];
    this.#head = 0;
    this.#byId.clear();
  }
}
