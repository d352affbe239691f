/**
 * The payload of a delivery that arrives in several transfer frames, copied into one buffer frame
 * by frame as the frames arrive, so that the last frame costs no more than any other and no single
 * step copies the whole message (a 100 MiB message, joined at its last frame, held the event loop
 * for tens of milliseconds).
 *
 * The buffer is sized from what the bytes so far say of the message's length: a message is a
 * sequence of sections, each one encoded value (AMQP 1.0 section 3.2), and a value's size field
 * comes first. When the bytes stop inside a value whose end is known, the buffer is made large
 * enough for that value once (a large body section is reserved when its first frame arrives), with
 * room for a 64th more, so that a footer or a short section after a large body does not move it.
 * Otherwise it at least doubles (messages of many small sections). A reservation is capped by the
 * link's max-message-size, if any; its pages become resident only as bytes are copied in, so a peer
 * that announces a large value and sends little of it costs address space, not memory.
 */
import { constants } from "node:buffer";
import { valueEnd } from "../codec/value-extent.js";

/** `size` and room for a 64th more (see the file's comment). */
const withRoom = (size: number): number => size + Math.floor(size / 64);

export class DeliveryBytes {
  #buf: Buffer;
  #size: number;
  /** Where the first value not yet known to end within the bytes gathered starts. */
  #scan = 0;
  /** The largest reservation: the link's max-message-size, or the largest buffer. */
  readonly #limit: number;

  /**
   * Starts with the payload of the delivery's first frame (which is copied: frames are views into
   * the connection's read buffers). `limit` is the link's max-message-size (0: none).
   */
  constructor(first: Buffer, limit: number) {
    this.#limit = limit > 0 ? Math.min(limit, constants.MAX_LENGTH) : constants.MAX_LENGTH;
    const n = first.length;
    const bound = this.#boundIn(first, n);
    this.#buf = this.#allocate(bound > n ? withRoom(bound) : 2 * n, n);
    first.copy(this.#buf, 0);
    this.#size = n;
  }

  /** Bytes gathered so far. */
  get size(): number {
    return this.#size;
  }

  /** Appends a frame's payload. */
  append(payload: Buffer): void {
    const n = payload.length;
    if (n === 0) return;
    const size = this.#size;
    const need = size + n;
    let buf = this.#buf;
    if (need > buf.length) {
      const bound = this.#boundIn(buf, size);
      const grown = this.#allocate(Math.max(bound >= need ? withRoom(bound) : need, 2 * buf.length), need);
      buf.copy(grown, 0, 0, size);
      buf = this.#buf = grown;
    }
    payload.copy(buf, size);
    this.#size = need;
  }

  /** The payload gathered: a view of the buffer (no copy). */
  bytes(): Buffer {
    const buf = this.#buf;
    return this.#size === buf.length ? buf : buf.subarray(0, this.#size);
  }

  /**
   * Walks the values that end within `buf[0, size)` from where the last walk stopped; returns where
   * the value the bytes stop in ends, or -1 when that is not known (its size field is cut off).
   */
  #boundIn(buf: Uint8Array, size: number): number {
    let p = this.#scan;
    while (p < size) {
      const e = valueEnd(buf, p, size);
      if (e < 0 || e > size) {
        this.#scan = p;
        return e;
      }
      p = e;
    }
    this.#scan = p;
    return -1;
  }

  /** A buffer of `want` bytes within the limit, at least `need`; `need` alone if `want` cannot be had. */
  #allocate(want: number, need: number): Buffer {
    const n = Math.max(need, Math.min(want, this.#limit));
    if (n === need) return Buffer.allocUnsafe(n);
    try {
      return Buffer.allocUnsafe(n);
    } catch {
      // The reservation was refused (address space, or a system that does not overcommit memory).
      return Buffer.allocUnsafe(need);
    }
  }
}
