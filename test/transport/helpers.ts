/**
 * Test helpers for transports: a recording handler, an echo handler and bounded waits.
 */
import assert from "node:assert/strict";
import type { Transport, TransportHandler } from "../../src/transport/index.js";
import { within } from "../support/waits.js";

export { within } from "../support/waits.js";

/** Awaits a promise expected to reject and returns the rejection (bounded). */
export async function rejection(promise: Promise<unknown>, what: string): Promise<any> {
  try {
    await within(promise, what);
  } catch (error) {
    return error;
  }
  throw new Error(`${what}: expected a rejection`);
}

/** One turn of the event loop, so that anything wrongly scheduled would have happened. */
export function settle(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 20));
}

/** A handler that records everything a transport reports. */
export class Recorder implements TransportHandler {
  readonly chunks: Buffer[] = [];
  bytes = 0;
  drains = 0;
  closeCalls = 0;
  closeError: Error | undefined;
  /** Calls of onData/onDrain after onClose (must stay 0). */
  callsAfterClose = 0;
  readonly closed: Promise<Error | undefined>;
  #resolveClosed!: (error: Error | undefined) => void;
  #byteWaiters: { n: number; resolve: () => void }[] = [];
  #drainWaiters: (() => void)[] = [];

  constructor() {
    this.closed = new Promise((resolve) => {
      this.#resolveClosed = resolve;
    });
  }

  onData(chunk: Buffer): void {
    if (this.closeCalls > 0) this.callsAfterClose++;
    this.chunks.push(chunk);
    this.bytes += chunk.length;
    this.#byteWaiters = this.#byteWaiters.filter((w) => {
      if (this.bytes < w.n) return true;
      w.resolve();
      return false;
    });
  }

  onDrain(): void {
    if (this.closeCalls > 0) this.callsAfterClose++;
    this.drains++;
    const waiters = this.#drainWaiters;
    this.#drainWaiters = [];
    for (const w of waiters) w();
  }

  onClose(error: Error | undefined): void {
    this.closeCalls++;
    this.closeError = error;
    this.#resolveClosed(error);
  }

  /** All bytes received so far. */
  received(): Buffer {
    return Buffer.concat(this.chunks);
  }

  /** Waits until at least `n` bytes were received. */
  async waitBytes(n: number, what = `${n} bytes`): Promise<Buffer> {
    if (this.bytes < n) {
      await within(
        new Promise<void>((resolve) => this.#byteWaiters.push({ n, resolve })),
        `${what} (got ${this.bytes})`,
      );
    }
    return this.received();
  }

  /** Waits for the next onDrain (or returns at once if one came already). */
  async waitDrain(): Promise<void> {
    if (this.drains > 0) return;
    await within(new Promise<void>((resolve) => this.#drainWaiters.push(resolve)), "onDrain");
  }

  /** Waits for onClose and returns its error. */
  waitClosed(what = "onClose"): Promise<Error | undefined> {
    return within(this.closed, what);
  }
}

/**
 * Pauses `paused`, has `writer` send two chunks meanwhile, and checks that none of it is read until
 * `resume()`, then that it arrives in order after what `r` (the recorder of `paused`) had.
 */
export async function checkPause(paused: Transport, writer: Transport, r: Recorder): Promise<void> {
  const before = r.bytes;
  const had = r.received().toString();
  paused.pause();
  writer.write(Buffer.from("-while-"));
  writer.write(Buffer.from("paused"));
  await settle();
  assert.equal(r.bytes, before, "nothing is read while paused");
  paused.resume();
  assert.equal((await r.waitBytes(before + 13)).toString(), `${had}-while-paused`);
}

/** Installs a recorder on a transport. */
export function record(transport: Transport): Recorder {
  const recorder = new Recorder();
  transport.setHandler(recorder);
  return recorder;
}

/** Makes a transport send back everything it receives; returns the recorder of its events. */
export function echo(transport: Transport): Recorder {
  const recorder = new Recorder();
  transport.setHandler({
    onData(chunk) {
      recorder.onData(chunk);
      transport.write(chunk);
    },
    onDrain: () => recorder.onDrain(),
    onClose: (error) => recorder.onClose(error),
  });
  return recorder;
}

/** Deterministic pseudo-random bytes. */
export function pattern(size: number, seed = 1): Buffer {
  const out = Buffer.allocUnsafe(size);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < size; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = x & 0xff;
  }
  return out;
}

/** Collects the transports a server accepts. */
export class Accepted {
  readonly transports: Transport[] = [];
  #waiters: (() => void)[] = [];
  /** Pass as `onTransport`; installs an echo handler unless `handle` is given. */
  readonly onTransport = (transport: Transport): void => {
    this.transports.push(transport);
    this.recorders.push(this.handle(transport));
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const w of waiters) w();
  };
  readonly recorders: Recorder[] = [];

  constructor(readonly handle: (transport: Transport) => Recorder = echo) {}

  /** Waits for the first accepted transport. */
  async first(): Promise<{ transport: Transport; recorder: Recorder }> {
    if (this.transports.length === 0) {
      await within(new Promise<void>((resolve) => this.#waiters.push(resolve)), "an accepted connection");
    }
    return { transport: this.transports[0]!, recorder: this.recorders[0]! };
  }
}
