/** The longest delay a timer holds (~24.8 days; past it Node fires at once). */
export const MAX_DELAY_MS = 2_147_483_647;

/** How far past a call's deadline a provider SDK's own timeout is set: a backstop, never the first to fire. */
const SDK_TIMEOUT_GRACE_MS = 1_000;

/**
 * The timeout to give a provider's SDK for a call bounded by `deadlineMs`: `graceMs` later (a second
 * unless said), so the call's own deadline fires first and reports the TimeoutError with its
 * `timeoutMs`; whole milliseconds (what SDKs take), and no more than a timer holds (~24.8 days; past it
 * Node fires at once), an infinite deadline becoming the longest.
 */
export function sdkBackstopTimeoutMs(deadlineMs: number, graceMs = SDK_TIMEOUT_GRACE_MS): number {
  return Number.isFinite(deadlineMs) ? Math.min(MAX_DELAY_MS, Math.ceil(deadlineMs) + graceMs) : MAX_DELAY_MS;
}

/**
 * `promise`, or a rejection with `onTimeout()`'s error once `ms` have passed, whichever comes first;
 * the timer is cleared as soon as it is settled. For waits that must not hang (a Redis command, a
 * provider's start-up check); a call's own deadline is `Deadlines`'.
 */
export function timeLimit<T>(promise: Promise<T>, ms: number, onTimeout: () => Error): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(onTimeout()), ms);
  });
  return Promise.race([promise, late]).finally(() => clearTimeout(timer));
}

/** A call's place in the deadline list. */
export interface Deadline {
  readonly at: number;
  readonly fire: () => void;
  prev: Deadline | undefined;
  next: Deadline | undefined;
  queued: boolean;
}

/**
 * The deadlines of every call in flight on one timer. A call costs a list entry instead of a
 * setTimeout/clearTimeout pair (which, for calls that come one after another, also creates and
 * destroys Node's timer list each time). Calls mostly share a timeout, so the list is kept in
 * deadline order by inserting from the tail, almost always in one step. The timer is armed for
 * the earliest deadline it knows; when it fires it settles what is due and re-arms for the rest.
 * It keeps the process alive only while some call is in flight, as a timer per call would.
 */
export class Deadlines {
  #head: Deadline | undefined;
  #tail: Deadline | undefined;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #timerAt = Number.POSITIVE_INFINITY;
  // When the armed timer is due: `#timerAt`, or sooner when that is beyond the longest delay a timer takes.
  #timerDue = Number.POSITIVE_INFINITY;
  #refed = false;

  add(ms: number, fire: () => void): Deadline {
    const at = performance.now() + ms;
    const entry: Deadline = { at, fire, prev: undefined, next: undefined, queued: true };
    let after = this.#tail;
    while (after !== undefined && after.at > at) after = after.prev;
    if (after === undefined) {
      entry.next = this.#head;
      if (this.#head) this.#head.prev = entry;
      this.#head = entry;
      if (!this.#tail) this.#tail = entry;
    } else {
      entry.prev = after;
      entry.next = after.next;
      if (after.next) after.next.prev = entry;
      else this.#tail = entry;
      after.next = entry;
    }
    if (at < this.#timerAt) this.#arm(at);
    else if (this.#timer !== undefined && !this.#refed) {
      this.#timer.ref();
      this.#refed = true;
    }
    return entry;
  }

  remove(entry: Deadline): void {
    if (!entry.queued) return;
    entry.queued = false;
    if (entry.prev) entry.prev.next = entry.next;
    else this.#head = entry.next;
    if (entry.next) entry.next.prev = entry.prev;
    else this.#tail = entry.prev;
    entry.prev = undefined;
    entry.next = undefined;
    // Nothing in flight: the (still armed) timer must not keep the process alive.
    if (this.#head === undefined && this.#refed && this.#timer) {
      this.#timer.unref();
      this.#refed = false;
    }
  }

  #arm(at: number): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#timerAt = Number.POSITIVE_INFINITY;
    this.#timerDue = Number.POSITIVE_INFINITY;
    this.#refed = false;
    // An infinite deadline never fires; setTimeout would turn it (or anything past ~24.8 days) into 1 ms.
    if (!Number.isFinite(at)) return;
    this.#timerAt = at;
    const now = performance.now();
    const delay = Math.min(MAX_DELAY_MS, Math.max(1, Math.ceil(at - now)));
    this.#timerDue = Math.min(at, now + delay);
    this.#timer = setTimeout(this.#due, delay);
    this.#refed = true;
  }

  readonly #due = (): void => {
    const armedFor = this.#timerDue;
    this.#timer = undefined;
    this.#timerAt = Number.POSITIVE_INFINITY;
    this.#timerDue = Number.POSITIVE_INFINITY;
    // Node's timers run on the event loop's clock, cached at the start of each loop turn, so a timer can
    // fire before performance.now() reaches the time it was armed for (by as long as the turn that armed
    // it ran). What it was armed for is due: re-arming for the rest let a timer another library set for
    // the same instant (an SDK's own timeout) fire first.
    const now = Math.max(performance.now(), armedFor);
    let head = this.#head;
    while (head !== undefined && head.at <= now) {
      this.remove(head);
      try {
        head.fire();
      } catch {
        // One call's abort handler must not keep the others' deadlines from firing.
      }
      head = this.#head;
    }
    if (head !== undefined) this.#arm(head.at);
  };
}
