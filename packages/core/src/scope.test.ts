import { EventEmitter, getEventListeners } from 'node:events';
import { AbortScope } from './scope.js';
import { NEVER_ABORT } from './signal.js';

describe('AbortScope', () => {
  beforeEach(() => jest.useFakeTimers());
  afterEach(() => jest.useRealTimers());

  it('cannot abort without a signal, a deadline or a parent that can, and costs no timer', () => {
    const root = new AbortScope();
    expect(root.canAbort).toBe(false);
    expect(root.signal).toBe(NEVER_ABORT);
    expect(root.child()).toBe(root);
    expect(root.onAbort(() => {})).toBeInstanceOf(Function);
    expect(jest.getTimerCount()).toBe(0);
  });

  it('aborts with the reason onTimeout makes when its deadline passes', () => {
    const reason = new Error('late');
    const root = new AbortScope(undefined, 100, () => reason);
    const seen: unknown[] = [];
    root.onAbort((r) => seen.push(r));
    jest.advanceTimersByTime(99);
    expect(root.aborted).toBe(false);
    jest.advanceTimersByTime(1);
    expect(root.aborted).toBe(true);
    expect(root.reason).toBe(reason);
    expect(seen).toEqual([reason]);
  });

  it('runs the deadlines of one duration on one timer, whatever the number of calls', () => {
    const calls = Array.from({ length: 50 }, () => new AbortScope(undefined, 10_000, () => 'call'));
    const attempts = calls.map((call) => call.child(2_000, () => 'attempt'));
    expect(jest.getTimerCount()).toBe(2);
    jest.advanceTimersByTime(2_000);
    expect(attempts.every((a) => a.reason === 'attempt')).toBe(true);
    expect(calls.some((c) => c.aborted)).toBe(false);
    expect(jest.getTimerCount()).toBe(1);
    jest.advanceTimersByTime(8_000);
    expect(calls.every((c) => c.reason === 'call')).toBe(true);
    expect(jest.getTimerCount()).toBe(0);
  });

  it('keeps expiring in order when scopes of one duration start at different times', () => {
    const first = new AbortScope(undefined, 100, () => 'first');
    jest.advanceTimersByTime(60);
    const second = new AbortScope(undefined, 100, () => 'second');
    first.dispose();
    jest.advanceTimersByTime(40);
    expect(second.aborted).toBe(false);
    jest.advanceTimersByTime(60);
    expect(second.reason).toBe('second');
  });

  it('aborts the scopes inside it, not the one around it', () => {
    const root = new AbortScope(undefined, 0, undefined, new AbortController().signal);
    const child = root.child(5_000);
    const grandchild = child.child();
    child.abort('stop');
    expect(grandchild.reason).toBe('stop');
    expect(root.aborted).toBe(false);
    root.abort('all');
    expect(child.reason).toBe('stop');
  });

  it('forks a scope its owner can abort even when nothing else can, without a timer', () => {
    const root = new AbortScope();
    const fork = root.fork();
    const heard: unknown[] = [];
    fork.onAbort((reason) => heard.push(reason));
    expect(fork.canAbort).toBe(true);
    fork.abort('lost');
    expect(heard).toEqual(['lost']);
    expect(root.aborted).toBe(false);
    expect(jest.getTimerCount()).toBe(0);
  });

  it('aborts a fork with its parent, and forgets a disposed fork', () => {
    const caller = new AbortController();
    const root = new AbortScope(undefined, 0, undefined, caller.signal);
    const kept = root.fork();
    const disposed = root.fork();
    disposed.dispose();
    caller.abort('bye');
    expect(kept.reason).toBe('bye');
    expect(disposed.aborted).toBe(false);
  });

  it('follows an outside signal and lets go of it when disposed', () => {
    const controller = new AbortController();
    const root = new AbortScope(undefined, 0, undefined, controller.signal);
    expect(getEventListeners(controller.signal, 'abort')).toHaveLength(1);
    root.dispose();
    expect(getEventListeners(controller.signal, 'abort')).toHaveLength(0);
    const other = new AbortScope(undefined, 0, undefined, controller.signal);
    controller.abort('bye');
    expect(other.reason).toBe('bye');
  });

  it('starts aborted when the outside signal or the parent already is', () => {
    expect(new AbortScope(undefined, 0, undefined, AbortSignal.abort('x')).reason).toBe('x');
    const root = new AbortScope(undefined, 50, () => 't');
    root.abort('gone');
    expect(root.child(10).reason).toBe('gone');
  });

  it('forgets a disposed scope: its deadline no longer fires and its parent no longer lists it', () => {
    const root = new AbortScope(undefined, 10_000, () => 'call');
    const child = root.child(100, () => 'attempt');
    child.dispose();
    jest.advanceTimersByTime(100);
    expect(child.aborted).toBe(false);
    root.abort('later');
    expect(child.aborted).toBe(false);
  });

  it('keeps no timer running for deadlines that were disposed', () => {
    const root = new AbortScope(undefined, 10_000, () => 'call');
    const child = root.child(100);
    expect(jest.getTimerCount()).toBe(2);
    child.dispose();
    root.dispose();
    jest.advanceTimersByTime(10_000);
    expect(jest.getTimerCount()).toBe(0);
    expect(root.aborted || child.aborted).toBe(false);
  });

  it('removes listeners with the function onAbort returns, and as an EventTarget', () => {
    const root = new AbortScope(undefined, 0, undefined, new AbortController().signal);
    const calls: string[] = [];
    const off = root.onAbort(() => calls.push('a'));
    const b = () => calls.push('b');
    root.addEventListener('abort', b);
    root.removeEventListener('abort', b);
    off();
    root.addEventListener('abort', () => calls.push('c'));
    root.abort('x');
    root.abort('y');
    expect(calls).toEqual(['c']);
    expect(root.reason).toBe('x');
  });

  it('gives a real AbortSignal that follows it, made once', () => {
    const root = new AbortScope(undefined, 100, () => 'late');
    const signal = root.signal;
    expect(signal).toBeInstanceOf(AbortSignal);
    expect(root.signal).toBe(signal);
    jest.advanceTimersByTime(100);
    expect(signal.aborted).toBe(true);
    expect(signal.reason).toBe('late');
  });

  describe('race', () => {
    it('returns the promise itself when nothing can abort', () => {
      const promise = Promise.resolve(1);
      expect(new AbortScope().race(promise)).toBe(promise);
    });

    it('rejects with the reason on abort and discards a response that comes later', async () => {
      const root = new AbortScope(undefined, 100, () => 'deadline');
      let answer!: (value: { body?: unknown; discard(): Promise<void> }) => void;
      const discard = jest.fn(async () => {});
      const raced = root.race(new Promise<{ discard(): Promise<void> }>((r) => (answer = r)));
      jest.advanceTimersByTime(100);
      await expect(raced).rejects.toBe('deadline');
      answer({ discard });
      await Promise.resolve();
      await Promise.resolve();
      expect(discard).toHaveBeenCalledTimes(1);
    });

    it('settles with the promise and removes its listener', async () => {
      const root = new AbortScope(undefined, 0, undefined, new AbortController().signal);
      await expect(root.race(Promise.resolve('ok'))).resolves.toBe('ok');
      await expect(root.race(Promise.reject(new Error('no')))).rejects.toThrow('no');
      const calls: string[] = [];
      root.onAbort(() => calls.push('only me'));
      root.abort('x');
      expect(calls).toEqual(['only me']);
    });
  });

  describe('attach', () => {
    it('aborts an attached object with the scope, once, and no longer once it is detached', () => {
      const scope = new AbortScope(undefined, 1_000, () => 'late');
      const kept = { abort: jest.fn() };
      const gone = { abort: jest.fn() };
      scope.attach(kept);
      scope.attach(gone);
      scope.detach(gone);
      scope.abort('stop');
      scope.abort('again');
      expect([kept.abort.mock.calls, gone.abort.mock.calls]).toEqual([[['stop']], []]);
      // A scope that has aborted, or that nothing can abort, keeps no follower.
      const never = new AbortScope();
      const late = { abort: jest.fn() };
      scope.attach(late);
      never.attach(late);
      never.abort('own');
      expect(late.abort).not.toHaveBeenCalled();
    });
  });

  describe('bound', () => {
    it('ends the scope with its work: released on an answer, disposed on a failure', async () => {
      const parent = new AbortScope(undefined, 1_000, () => 'outer');
      const answered = parent.child(100, () => 'inner');
      await expect(
        answered.bound((value) => value, Promise.resolve({ body: null })),
      ).resolves.toEqual({
        body: null,
      });
      const failed = parent.child(100, () => 'inner');
      await expect(failed.bound((value) => value, Promise.reject(new Error('no')))).rejects.toThrow(
        'no',
      );
      // Neither deadline fires any more, and the parent's abort no longer reaches them.
      jest.advanceTimersByTime(100);
      parent.abort('caller');
      expect([answered.aborted, failed.aborted]).toEqual([false, false]);
    });

    it('keeps a body still streaming under the enclosing scopes until it closes', async () => {
      const parent = new AbortScope(undefined, 1_000, () => 'outer');
      const scope = parent.child(100, () => 'inner');
      const body = Object.assign(new EventEmitter(), { destroyed: false, readableEnded: false });
      await scope.bound((value) => value, Promise.resolve({ body }));
      jest.advanceTimersByTime(100);
      expect(scope.aborted).toBe(false);
      parent.abort('caller');
      expect(scope.reason).toBe('caller');
      body.emit('close');
    });

    it('runs the work with the scope raced already, and turns a throw from it into a rejection', async () => {
      const parent = new AbortScope(undefined, 1_000, () => 'outer');
      const scope = parent.child(100, () => 'inner');
      const seen: boolean[] = [];
      const work = (s: AbortScope) => {
        seen.push(s.raced);
        return Promise.resolve({ body: null });
      };
      await scope.bound(work, scope);
      expect([...seen, scope.raced]).toEqual([true, false]);
      const throwing = parent.child(100, () => 'inner');
      const thrown = throwing.bound(() => {
        throw new Error('sync');
      }, undefined);
      await expect(thrown).rejects.toThrow('sync');
      expect(throwing.raced).toBe(false);
    });

    it('rejects at the deadline even when the work ignores the abort', async () => {
      const scope = new AbortScope(undefined, 0, undefined).child(50, () => 'late');
      const raced = scope.bound((value) => value, new Promise<{ body?: unknown }>(() => {}));
      jest.advanceTimersByTime(50);
      await expect(raced).rejects.toBe('late');
    });

    it('discards an answer that comes after the abort, and rejects every bound work of the scope', async () => {
      const scope = new AbortScope(undefined, 0, undefined).child(50, () => 'late');
      let answer!: (value: { body?: unknown; discard(): Promise<void> }) => void;
      const first = scope.bound(
        (value) => value,
        new Promise<{ body?: unknown; discard(): Promise<void> }>((resolve) => (answer = resolve)),
      );
      const second = scope.bound((value) => value, new Promise<{ body?: unknown }>(() => {}));
      scope.abort('caller');
      await expect(first).rejects.toBe('caller');
      await expect(second).rejects.toBe('caller');
      const discard = jest.fn(() => Promise.resolve());
      answer({ discard });
      await Promise.resolve();
      await Promise.resolve();
      expect(discard).toHaveBeenCalledTimes(1);
    });
  });
});
