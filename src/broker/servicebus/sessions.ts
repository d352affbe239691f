/**
 * Service Bus sessions of one entity: which receiver holds each session's lock and until when, the
 * session state, and the receivers waiting for the next available session.
 */

/** A receiver holding (or waiting for) a session lock. */
export interface SessionHolder {
  /** The holder lost its lock (it expired): its link is detached with `com.microsoft:session-lock-lost`. */
  lockLost(): void;
}

interface SessionRecord {
  holder: SessionHolder | undefined;
  lockedUntil: number;
  timer: NodeJS.Timeout | undefined;
  state: Buffer | undefined;
  updatedAt: number;
}

/** A receiver waiting for the next available session (`com.microsoft:session-filter` null). */
interface Waiter {
  readonly holder: SessionHolder;
  /** Finds a session for it (undefined: none yet). */
  readonly pick: () => string | undefined;
  /** Called with the session id it now holds, or undefined when its wait ended without one. */
  readonly done: (sessionId: string | undefined) => void;
  timer: NodeJS.Timeout | undefined;
}

export class SessionTable {
  readonly #sessions = new Map<string, SessionRecord>();
  readonly #waiters: Waiter[] = [];
  readonly #lockDuration: number;

  /** @param lockDuration how long a session lock lasts unless renewed (ms). */
  constructor(lockDuration: number) {
    this.#lockDuration = lockDuration;
  }

  #record(sessionId: string): SessionRecord {
    let r = this.#sessions.get(sessionId);
    if (!r) {
      r = { holder: undefined, lockedUntil: 0, timer: undefined, state: undefined, updatedAt: Date.now() };
      this.#sessions.set(sessionId, r);
    }
    return r;
  }

  /** Whether a receiver holds the session's lock. */
  isLocked(sessionId: string): boolean {
    return this.#sessions.get(sessionId)?.holder !== undefined;
  }

  /** Locks `sessionId` for `holder`; its expiry, or undefined when another receiver holds it. */
  lock(sessionId: string, holder: SessionHolder): number | undefined {
    const r = this.#record(sessionId);
    if (r.holder !== undefined && r.holder !== holder) return undefined;
    r.holder = holder;
    this.#arm(sessionId, r);
    return r.lockedUntil;
  }

  #arm(sessionId: string, r: SessionRecord): void {
    if (r.timer) clearTimeout(r.timer);
    r.lockedUntil = Date.now() + this.#lockDuration;
    r.timer = setTimeout(() => {
      r.timer = undefined;
      const holder = r.holder;
      r.holder = undefined;
      holder?.lockLost();
    }, this.#lockDuration);
    r.timer.unref();
  }

  /** Extends the lock of a locked session; its new expiry, or undefined when nobody holds it. */
  renew(sessionId: string): number | undefined {
    const r = this.#sessions.get(sessionId);
    if (r?.holder === undefined) return undefined;
    this.#arm(sessionId, r);
    return r.lockedUntil;
  }

  /** The holder lets the session go (its link detached). */
  release(sessionId: string, holder: SessionHolder): void {
    const r = this.#sessions.get(sessionId);
    if (r?.holder !== holder) return;
    r.holder = undefined;
    if (r.timer) clearTimeout(r.timer);
    r.timer = undefined;
    if (r.state === undefined) this.#sessions.delete(sessionId);
  }

  /** The session state (undefined: none). */
  state(sessionId: string): Buffer | undefined {
    return this.#sessions.get(sessionId)?.state;
  }

  /** Sets (or with undefined clears) the session state. */
  setState(sessionId: string, state: Buffer | undefined): void {
    const r = this.#record(sessionId);
    r.state = state;
    r.updatedAt = Date.now();
    if (state === undefined && r.holder === undefined) this.#sessions.delete(sessionId);
  }

  /** Sessions with a state set after `since` (ms), for get-message-sessions. */
  withStateSince(since: number): string[] {
    const out: string[] = [];
    for (const [id, r] of this.#sessions) if (r.state !== undefined && r.updatedAt >= since) out.push(id);
    return out;
  }

  /**
   * Waits (at most `timeoutMs`) for a session `pick` finds: `pick` is asked now and again at each
   * {@link wake}; `done` gets the locked session id, or undefined at the time-out. Returns a function
   * that cancels the wait (the holder's link went away).
   */
  waitForSession(
    holder: SessionHolder,
    pick: () => string | undefined,
    timeoutMs: number,
    done: (sessionId: string | undefined) => void,
  ): () => void {
    const now = this.#take(holder, pick);
    if (now !== undefined) {
      done(now);
      return () => undefined;
    }
    const waiter: Waiter = {
      holder,
      pick,
      done: (id) => {
        this.#remove(waiter);
        done(id);
      },
      timer: undefined,
    };
    waiter.timer = setTimeout(() => {
      waiter.done(undefined);
    }, timeoutMs);
    waiter.timer.unref();
    this.#waiters.push(waiter);
    return () => {
      this.#remove(waiter);
    };
  }

  #take(holder: SessionHolder, pick: () => string | undefined): string | undefined {
    const id = pick();
    if (id === undefined) return undefined;
    return this.lock(id, holder) === undefined ? undefined : id;
  }

  #remove(w: Waiter): void {
    if (w.timer) clearTimeout(w.timer);
    const i = this.#waiters.indexOf(w);
    if (i >= 0) this.#waiters.splice(i, 1);
  }

  /** Messages arrived or a session was released: waiting receivers look again. */
  wake(): void {
    for (const w of [...this.#waiters]) {
      const id = this.#take(w.holder, w.pick);
      if (id !== undefined) w.done(id);
    }
  }

  /** Ends every lock and wait (the entity is gone). */
  clear(): void {
    for (const r of this.#sessions.values()) if (r.timer) clearTimeout(r.timer);
    this.#sessions.clear();
    for (const w of [...this.#waiters]) w.done(undefined);
  }
}
