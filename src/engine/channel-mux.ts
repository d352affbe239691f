/**
 * The channel mux of a connection (spec 2.1, 2.5.1): its sessions by local channel and by the
 * peer's channel, a free channel for each new session, and the routing of each incoming AMQP frame
 * to the session on its channel (OPEN and CLOSE go back to the connection).
 */
import type { Decoder } from "../codec/decoder.js";
import type { AMQPError } from "../errors/amqp-error.js";
import { DecodeError } from "../errors/decode-error.js";
import {
  Attach,
  Begin,
  Close,
  Detach,
  Disposition,
  End,
  Flow,
  Open,
  PerformativeCode as P,
  type BeginFields,
  type OpenFields,
} from "../frames/performatives.js";
import { decodeTransferBody } from "../frames/transfer-decoder.js";
import type { AmqpConnection } from "./connection.js";
import { protocolError, type ErrorFields } from "./remote-errors.js";
import { AmqpSession, type SessionOptions } from "./session.js";
import { traceLine } from "./trace.js";

/** The connection-level frames, which the connection handles itself. */
export interface ConnectionFrameHandler {
  /** The peer's OPEN. */
  handleOpen(f: OpenFields): void;
  /** The peer's CLOSE, with its error if any. */
  handleClose(error: ErrorFields | undefined): void;
}

/**
 * The sessions of one connection, and the router of its incoming AMQP frames.
 *
 * @example
 * ```ts
 * const mux = new ChannelMux(connection, { handleOpen, handleClose });
 * const session = mux.begin(channelMax, {}); // BEGIN on the lowest free channel
 * mux.dispatch(code, channel, decoder, end); // for each AMQP frame after the performative code
 * ```
 */
export class ChannelMux {
  readonly #connection: AmqpConnection;
  readonly #handler: ConnectionFrameHandler;
  /** Our sessions by local channel. */
  readonly #sessions: (AmqpSession | undefined)[] = [];
  /** Our sessions by the peer's channel (once the peer's BEGIN arrived). */
  readonly #byRemoteChannel = new Map<number, AmqpSession>();
  /** Sessions with dispositions to write before the next flush. */
  readonly #dispositionSessions = new Set<AmqpSession>();

  constructor(connection: AmqpConnection, handler: ConnectionFrameHandler) {
    this.#connection = connection;
    this.#handler = handler;
  }

  /**
   * Begins a session on the lowest free channel (BEGIN goes out at once, pipelined).
   *
   * @throws AMQPConnectionError (`amqp:resource-limit-exceeded`) when every channel up to `max` is taken
   */
  begin(max: number, options: SessionOptions | undefined): AmqpSession {
    const ch = this.#freeChannel();
    if (ch > max) throw protocolError("amqp:resource-limit-exceeded", `no free channel (channel-max ${max})`);
    const s = new AmqpSession(this.#connection, ch, options);
    this.#sessions[ch] = s;
    s.writeBegin();
    return s;
  }

  /** Removes an ended session from the tables. */
  forget(s: AmqpSession): void {
    if (this.#sessions[s.channel] === s) this.#sessions[s.channel] = undefined;
    if (s.remoteChannel !== undefined && this.#byRemoteChannel.get(s.remoteChannel) === s) {
      this.#byRemoteChannel.delete(s.remoteChannel);
    }
    this.#dispositionSessions.delete(s);
  }

  /** Fails every session with `error`. */
  terminateAll(error: AMQPError): void {
    for (const s of this.#sessions) s?.terminate(error);
  }

  /** Lets every session write again (the peer's OPEN arrived, or the transport drained). */
  resumeAll(): void {
    for (const s of this.#sessions) s?.resume();
  }

  /** A session has dispositions to write before the next flush. */
  needsDispositionFlush(s: AmqpSession): void {
    this.#dispositionSessions.add(s);
  }

  /** Writes the dispositions the sessions collected (just before a flush, or before CLOSE). */
  flushDispositions(): void {
    for (const s of this.#dispositionSessions) s.flushDispositions();
    this.#dispositionSessions.clear();
  }

  /**
   * Routes one AMQP frame whose performative code was read from `d`; the frame's body ends at
   * `end` (a transfer's payload runs from the decoder's position to `end`).
   *
   * @throws DecodeError for a frame on a channel with no session, or a performative that is not
   *   valid on a connection
   */
  dispatch(code: number, channel: number, d: Decoder, end: number): void {
    const trace = this.#connection.options.trace;
    if (code === P.Transfer) {
      const t = decodeTransferBody(d);
      const payload = d.buf.subarray(d.pos, end);
      if (trace) trace(traceLine("<-", code, channel, t, payload.length));
      this.#session(channel).handleTransfer(t, payload);
      return;
    }
    switch (code) {
      case P.Open: {
        const f = Open.decodeBody(d);
        if (trace) trace(traceLine("<-", code, channel, f, 0));
        return this.#handler.handleOpen(f);
      }
      case P.Begin: {
        const f = Begin.decodeBody(d);
        if (trace) trace(traceLine("<-", code, channel, f, 0));
        return this.#handleBegin(channel, f);
      }
      case P.Attach: {
        const f = Attach.decodeBody(d);
        if (trace) trace(traceLine("<-", code, channel, f, 0));
        return this.#session(channel).handleAttach(f);
      }
      case P.Flow: {
        const f = Flow.decodeBody(d);
        if (trace) trace(traceLine("<-", code, channel, f, 0));
        return this.#session(channel).handleFlow(f);
      }
      case P.Disposition: {
        const f = Disposition.decodeBody(d);
        if (trace) trace(traceLine("<-", code, channel, f, 0));
        return this.#session(channel).handleDisposition(f);
      }
      case P.Detach: {
        const f = Detach.decodeBody(d);
        if (trace) trace(traceLine("<-", code, channel, f, 0));
        return this.#session(channel).handleDetach(f);
      }
      case P.End: {
        const f = End.decodeBody(d);
        if (trace) trace(traceLine("<-", code, channel, f, 0));
        const s = this.#session(channel);
        this.#byRemoteChannel.delete(channel);
        return s.handleEnd(f);
      }
      case P.Close: {
        const f = Close.decodeBody(d);
        if (trace) trace(traceLine("<-", code, channel, f, 0));
        return this.#handler.handleClose(f.error);
      }
      default:
        throw new DecodeError(
          `performative 0x${code.toString(16)} is not valid on an AMQP connection`,
          d.pos,
        );
    }
  }

  #freeChannel(): number {
    let ch = 0;
    while (this.#sessions[ch] !== undefined) ch++;
    return ch;
  }

  #session(remoteChannel: number): AmqpSession {
    const s = this.#byRemoteChannel.get(remoteChannel);
    if (!s) throw unattachedChannel(remoteChannel);
    return s;
  }

  #handleBegin(channel: number, f: BeginFields): void {
    if (f.remoteChannel !== undefined) {
      const s = this.#sessions[f.remoteChannel];
      if (!s || s.remoteChannel !== undefined)
        throw protocolError("amqp:not-allowed", `BEGIN answers unknown channel ${f.remoteChannel}`);
      s.remoteChannel = channel;
      this.#byRemoteChannel.set(channel, s);
      s.handleBegin(f);
      return;
    }
    // The peer begins a session: create ours and answer.
    if (this.#byRemoteChannel.has(channel))
      throw protocolError("amqp:not-allowed", `channel ${channel} is already in use`);
    const ch = this.#freeChannel();
    const s = new AmqpSession(this.#connection, ch);
    this.#sessions[ch] = s;
    s.remoteChannel = channel;
    this.#byRemoteChannel.set(channel, s);
    s.writeBegin();
    s.handleBegin(f);
    this.#connection.onRemoteBegin?.(s, f);
  }
}

/** A frame arrived for a channel with no session: connection error. */
function unattachedChannel(channel: number): AMQPError {
  return protocolError("amqp:not-allowed", `frame on channel ${channel}, which has no session`);
}
