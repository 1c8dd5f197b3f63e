// The sustained-rate search of the gateway case: every server climbs the same ladder of rates
// together, each step measured beside a direct call made right before it.

/** One open-loop run at a rate: its p99 and how many requests failed. */
export interface RateRun {
  p99Us: number;
  errors: number;
}

/** One step a server tried. */
export interface ClimbStep {
  contender: string;
  rate: number;
  /** 1, or 2 for the second try of a step that failed once. */
  attempt: number;
  /** The direct call's p99 at this rate, measured right before. */
  directP99Us: number;
  errors: number;
  p99Us: number;
  addedP99Us: number;
  ok: boolean;
  /** At the rate where the direct call itself failed (the ceiling): decides nothing, whatever `ok` says. */
  undecided?: true;
}

export interface ClimbOptions<T> {
  rates: readonly number[];
  contenders: readonly T[];
  nameOf: (contender: T) => string;
  /** Runs the direct call at `rate` (the servers' baseline). */
  direct: (rate: number) => Promise<RateRun>;
  /** Runs a server at `rate`. */
  run: (contender: T, rate: number) => Promise<RateRun>;
  /** Most p99 a step may add over the direct call's (the issue: 5 ms). */
  maxAddedP99Us: number;
  /** Told when a server stops climbing (its highest rate, undefined when it held none). */
  onStop?: (contender: T, highest: number | undefined) => void;
}

/**
 * Steps every contender up the rates together: at each rate the direct call, then each contender
 * still climbing, one after another, so their steps are measured minutes apart rather than a whole
 * search apart. A step holds with no error and a p99 at most `maxAddedP99Us` over the direct
 * call's. A failed step is tried once more after a fresh direct call, for every contender alike (a
 * moment that stalls the whole machine should not end a search by itself); a contender stops at a
 * step it fails twice in a row. The direct call must hold each rate too — no error and a p99 at
 * most `maxAddedP99Us` over its own at the first rate, in one of two tries — or the climb ends
 * there (`ceiling`): past what the machine's client and upstream sustain alone, a server's "added"
 * p99 is measured against a baseline that is itself failing, and says nothing. Found at a server's
 * second try, the ceiling's rate decides nothing for anyone (steps there are `undecided`).
 */
export async function climbRates<T>(options: ClimbOptions<T>): Promise<{
  highest: Map<T, number | undefined>;
  steps: ClimbStep[];
  direct: { rate: number; run: RateRun }[];
  /** The rate the direct call itself could not hold (twice), where the climb ended; undefined when it held every rate tried. */
  ceiling: number | undefined;
}> {
  const highest = new Map<T, number | undefined>(options.contenders.map((c) => [c, undefined]));
  const steps: ClimbStep[] = [];
  const directRuns: { rate: number; run: RateRun }[] = [];
  const climbing = [...options.contenders];
  const measureDirect = async (rate: number) => {
    const run = await options.direct(rate);
    directRuns.push({ rate, run });
    return run;
  };
  let floorP99Us: number | undefined;
  let ceiling: number | undefined;
  const holds = (run: RateRun) =>
    run.errors === 0 && (floorP99Us === undefined || run.p99Us <= floorP99Us + options.maxAddedP99Us);
  /** The direct call at `rate`, tried twice if need be; undefined when it cannot hold the rate. */
  const baseline = async (rate: number): Promise<RateRun | undefined> => {
    for (let attempt = 1; attempt <= 2; attempt++) {
      const run = await measureDirect(rate);
      floorP99Us ??= run.errors === 0 ? run.p99Us : undefined;
      if (holds(run)) return run;
    }
    ceiling = rate;
    return undefined;
  };
  climb: for (const rate of options.rates) {
    if (climbing.length === 0) break;
    const before = new Map(highest);
    let base = await baseline(rate);
    if (base === undefined) break;
    for (const contender of [...climbing]) {
      let ok = false;
      for (let attempt = 1; attempt <= 2 && !ok; attempt++) {
        if (attempt === 2) {
          base = await baseline(rate);
          if (base === undefined) {
            // The machine cannot hold this rate: it decides nothing, for those measured at it before too.
            for (const [c, top] of before) highest.set(c, top);
            for (const step of steps) if (step.rate === rate) step.undecided = true;
            break climb;
          }
        }
        const run = await options.run(contender, rate);
        const added = run.p99Us - base.p99Us;
        ok = run.errors === 0 && added <= options.maxAddedP99Us;
        steps.push({
          contender: options.nameOf(contender),
          rate,
          attempt,
          directP99Us: base.p99Us,
          errors: run.errors,
          p99Us: run.p99Us,
          addedP99Us: added,
          ok,
        });
      }
      if (ok) highest.set(contender, rate);
      else {
        climbing.splice(climbing.indexOf(contender), 1);
        options.onStop?.(contender, highest.get(contender));
      }
    }
  }
  for (const contender of climbing) options.onStop?.(contender, highest.get(contender));
  return { highest, steps, direct: directRuns, ceiling };
}
