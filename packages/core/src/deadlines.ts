// Deadlines without a timer each: every deadline of the process sits in one list per duration.
// Entries of the same duration are added in the order they expire, so each list needs one timer,
// armed for its head, and adding or removing an entry is a few pointer writes (no Timeout object,
// no timer per call). The links live on the entries themselves (AbortScope), under symbols: no
// node object per deadline, and no base class, whose fields V8 would keep outside the object.

// performance.now() is monotonic: a deadline is not moved by a change of the wall clock.
export const now = () => performance.now();

/** The list an entry is in, while its deadline counts. */
export const kList: unique symbol = Symbol('extapi.deadlineList');
/** The entry before this one in its list. */
export const kPrev: unique symbol = Symbol('extapi.deadlinePrev');
/** The entry after this one in its list. */
export const kNext: unique symbol = Symbol('extapi.deadlineNext');
/** Called when the entry's deadline passes, after it left its list. */
export const kExpire: unique symbol = Symbol('extapi.deadlineExpire');

/** Something with a deadline that costs no timer of its own: an `AbortScope`. */
export interface DeadlineEntry {
  /** When its deadline passes, in `performance.now()` ms. */
  readonly deadline: number;
  [kList]: DeadlineList | undefined;
  [kPrev]: DeadlineEntry | undefined;
  [kNext]: DeadlineEntry | undefined;
  [kExpire](): void;
}

/** The entries of one duration, oldest first, and the timer armed for the oldest. */
export interface DeadlineList {
  head: DeadlineEntry | undefined;
  tail: DeadlineEntry | undefined;
  timer: ReturnType<typeof setTimeout> | undefined;
  /** The `setTimeout` the timer was armed with. */
  clock: typeof setTimeout | undefined;
}

const lists = new Map<number, DeadlineList>();

/** Starts counting `entry`'s deadline, `ms` from now (its `deadline`). */
export function enlist(entry: DeadlineEntry, ms: number): void {
  let list = lists.get(ms);
  if (list === undefined) {
    list = { head: undefined, tail: undefined, timer: undefined, clock: undefined };
    lists.set(ms, list);
  }
  entry[kList] = list;
  entry[kPrev] = list.tail;
  if (list.tail === undefined) list.head = entry;
  else list.tail[kNext] = entry;
  list.tail = entry;
  // The list's timer fires no later than this deadline (it was armed for an older one, or now),
  // unless the clock was swapped since (fake timers in tests): then it is armed anew.
  if (list.timer === undefined || list.clock !== setTimeout) {
    list.clock = setTimeout;
    list.timer = setTimeout(() => fire(list), ms);
  } else if (entry[kPrev] === undefined) list.timer.ref?.();
}

/** Stops counting `entry`'s deadline (it is in `list`). */
export function delist(entry: DeadlineEntry, list: DeadlineList): void {
  const prev = entry[kPrev];
  const next = entry[kNext];
  if (prev === undefined) list.head = next;
  else prev[kNext] = next;
  if (next === undefined) list.tail = prev;
  else next[kPrev] = prev;
  entry[kList] = entry[kPrev] = entry[kNext] = undefined;
  // An empty list keeps its timer (a call after it reuses it) but lets the process exit.
  if (list.head === undefined) list.timer?.unref?.();
}

function fire(list: DeadlineList): void {
  list.timer = undefined;
  // Timers may fire a little early; a deadline within a millisecond is due.
  const due = now() + 1;
  let entry = list.head;
  while (entry !== undefined && entry.deadline <= due) {
    delist(entry, list);
    entry[kExpire]();
    entry = list.head;
  }
  if (entry !== undefined && list.timer === undefined) {
    list.clock = setTimeout;
    list.timer = setTimeout(() => fire(list), Math.max(1, entry.deadline - now()));
  }
}
