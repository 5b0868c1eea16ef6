// Deadlines without a timer each: every deadline of the process sits in one list per duration.
// Entries of the same duration are added in the order they expire, so each list needs one timer,
// armed for its head, and adding or removing an entry is a few pointer writes (no Timeout object,
// no timer per call).

// performance.now() is monotonic: a deadline is not moved by a change of the wall clock.
export const now = () => performance.now();

/** The entries of one duration, oldest first, and the timer armed for the oldest. */
interface DeadlineList {
  head: Deadline | undefined;
  tail: Deadline | undefined;
  timer: ReturnType<typeof setTimeout> | undefined;
  /** The `setTimeout` the timer was armed with. */
  clock: typeof setTimeout | undefined;
}

const lists = new Map<number, DeadlineList>();

/**
 * Something with a deadline that costs no timer of its own: {@link AbortScope} is one. It counts
 * from {@link Deadline.enlist} until {@link Deadline.stop}, or until it passes and `expire()` runs.
 */
export abstract class Deadline {
  /** When its deadline passes, in `performance.now()` ms; `Infinity` for none. */
  readonly deadline: number;
  // Its place in the list of its duration, while its deadline counts.
  #list: DeadlineList | undefined;
  #prev: Deadline | undefined;
  #next: Deadline | undefined;

  /** @param ms the deadline is this many ms from now; `undefined` or `0` for none. */
  constructor(ms: number | undefined) {
    this.deadline = ms ? now() + ms : Number.POSITIVE_INFINITY;
  }

  /** The deadline has passed (it has already left its list). */
  protected abstract expire(): void;

  /** Starts counting the deadline of `ms` given to the constructor. */
  protected enlist(ms: number): void {
    let list = lists.get(ms);
    if (list === undefined) {
      list = { head: undefined, tail: undefined, timer: undefined, clock: undefined };
      lists.set(ms, list);
    }
    this.#list = list;
    this.#prev = list.tail;
    if (list.tail === undefined) list.head = this;
    else list.tail.#next = this;
    list.tail = this;
    // The list's timer fires no later than this deadline (it was armed for an older one, or now),
    // unless the clock was swapped since (fake timers in tests): then it is armed anew.
    if (list.timer === undefined || list.clock !== setTimeout) {
      list.clock = setTimeout;
      list.timer = setTimeout(() => Deadline.#fire(list), ms);
    } else if (this.#prev === undefined) list.timer.ref?.();
  }

  /**
   * Stops the deadline: it will not expire. Nothing else changes (a scope still follows its
   * enclosing scope, so a body streamed under it still hears a caller's abort, until disposed).
   */
  stop(): void {
    const list = this.#list;
    if (list === undefined) return;
    if (this.#prev === undefined) list.head = this.#next;
    else this.#prev.#next = this.#next;
    if (this.#next === undefined) list.tail = this.#prev;
    else this.#next.#prev = this.#prev;
    this.#list = this.#prev = this.#next = undefined;
    // An empty list keeps its timer (a call after it reuses it) but lets the process exit.
    if (list.head === undefined) list.timer?.unref?.();
  }

  static #fire(list: DeadlineList): void {
    list.timer = undefined;
    // Timers may fire a little early; a deadline within a millisecond is due.
    const due = now() + 1;
    let entry = list.head;
    while (entry !== undefined && entry.deadline <= due) {
      entry.stop();
      entry.expire();
      entry = list.head;
    }
    if (entry !== undefined && list.timer === undefined) {
      list.clock = setTimeout;
      list.timer = setTimeout(() => Deadline.#fire(list), Math.max(1, entry.deadline - now()));
    }
  }
}
