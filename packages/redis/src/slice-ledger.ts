/** A slice leased from Redis (starts, or an amount), used locally until `usableUntil`. */
export interface Slice {
  id: string;
  granted: number;
  used: number;
  /** `performance.now()` past which it is not used (it stays counted in Redis for the horizon after that). */
  usableUntil: number;
  /** The same moment in Redis' clock (as Redis stored it). */
  serverUntil: number;
}

/** Taken while Redis did not answer, to be counted in Redis once it does. */
interface Unreported {
  id: string;
  amount: number;
  serverLast: number;
}

/** What one exchange tells Redis about the slices: see `lease-script.ts`'s `returnsAndRestates`. */
export interface Outgoing {
  /** (slice id, amount used) of ended slices whose unused part goes back. */
  returns: [string, number][];
  /** (id, amount, last use) of what this holder uses, counted again should Redis have lost it. */
  restate: (string | number)[];
  /** How many unreported takes it carries (acknowledged with it). */
  unreported: number;
}

/**
 * A holder's side of the leased slices: the live ones (in grant order, so they end in order),
 * the unused parts to give back, and what was taken without Redis — re-stated with every
 * exchange until Redis acknowledges it, so a copy that ran twice or was lost changes nothing.
 */
export class SliceLedger {
  slices: Slice[] = [];
  /** Ended slices with an unused part: slice id → amount used (sent until acknowledged). */
  readonly returns = new Map<string, number>();
  #unreported: Unreported[] = [];
  /** The unreported take still growing (merged takes), sealed when an exchange carries it. */
  #open: Unreported | undefined;
  /** Fires at the first live slice's end (see `#arm`). */
  #timer: ReturnType<typeof setTimeout> | undefined;

  /** `onReturn`: an ended slice left something to give back (the owner schedules an exchange). */
  constructor(private readonly onReturn: () => void) {}

  get unreportedCount(): number {
    return this.#unreported.length + (this.#open ? 1 : 0);
  }

  /** The slices still usable; those that ended are dropped, their unused part queued to go back. */
  live(now: number): Slice[] {
    while (this.slices.length > 0 && now >= (this.slices[0] as Slice).usableUntil) {
      const ended = this.slices.shift() as Slice;
      if (ended.used < ended.granted) {
        this.returns.set(ended.id, ended.used);
        this.onReturn();
      }
    }
    return this.slices;
  }

  /** A slice Redis granted to an exchange sent at `sentAt`; dropped (and its rest returned) once it ends. */
  grant(id: string, granted: number, sentAt: number, serverMs: number, sliceMs: number): void {
    this.slices.push({ id, granted, used: 0, usableUntil: sentAt + sliceMs, serverUntil: serverMs + sliceMs });
    this.#arm();
  }

  /**
   * One timer for the first live slice's end, armed again after it fires until no slice is left:
   * a Node timer can fire a fraction of a millisecond before its time (it counts from the event
   * loop's cached clock, in whole ms), and a slice still live then must not wait for the holder's
   * next charge to give its unused part back — a process that stopped charging would hold it for good.
   */
  #arm(): void {
    if (this.#timer !== undefined || this.slices.length === 0) return;
    const wait = Math.max(0, (this.slices[0] as Slice).usableUntil - performance.now()) + 1;
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      this.live(performance.now());
      this.#arm();
    }, wait);
    this.#timer.unref();
  }

  #disarm(): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  /** Every slice's unused part goes back (close). */
  returnAll(): void {
    for (const s of this.slices) if (s.used < s.granted) this.returns.set(s.id, s.used);
    this.slices = [];
    this.#disarm();
  }

  /** A take without Redis; `merge` adds it to the one not yet sent instead of a new record. */
  noteUnreported(newId: () => string, amount: number, serverLast: number, merge: boolean): void {
    if (merge && this.#open) {
      this.#open.amount += amount;
      this.#open.serverLast = serverLast;
      return;
    }
    const record = { id: newId(), amount, serverLast };
    if (merge) this.#open = record;
    else this.#unreported.push(record);
  }

  outgoing(now: number): Outgoing {
    const returns = [...this.returns];
    if (this.#open) {
      this.#unreported.push(this.#open);
      this.#open = undefined;
    }
    const restate: (string | number)[] = [];
    for (const s of this.live(now)) restate.push(s.id, s.granted, s.serverUntil);
    for (const u of this.#unreported) restate.push(u.id, u.amount, u.serverLast);
    return { returns, restate, unreported: this.#unreported.length };
  }

  /** Redis applied `out`: its returns and unreported takes are counted there. */
  acknowledge(out: Outgoing): void {
    for (const [id] of out.returns) this.returns.delete(id);
    this.#unreported.splice(0, out.unreported);
  }

  clear(): void {
    this.slices = [];
    this.#disarm();
    this.returns.clear();
    this.#unreported = [];
    this.#open = undefined;
  }
}
