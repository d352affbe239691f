/**
 * Robustness of `AmqpConnection` (client and server role) against a hostile peer: after a valid
 * header exchange and OPEN (optionally SASL first, and a session and two links), the peer writes an
 * arbitrary sequence of frames — random bytes; performatives out of order, on wrong channels and
 * handles, with mutated bodies, lying size or data-offset fields, the wrong frame type (SASL after
 * OPEN), truncated, or bigger than the max-frame-size — over an in-memory pair, re-chunked.
 *
 * Property of every run:
 * - no uncaught exception and no unhandled rejection;
 * - the connection either stays usable (a new session begins) or ends with a typed `AMQPError`
 *   carrying an `amqp:` condition (a clean end only if the peer sent a CLOSE);
 * - every pending promise (opened, begun, attached, sends) settles, rejections are `AMQPError`s;
 * - once closed, the transport is gone, what the engine wrote parses, and no timer or handle is left.
 *
 * Runs are seeded; `FUZZ_RUNS=<n>` multiplies the number of runs and `FUZZ_SEED=<n>` changes the seed.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import { AmqpConnection } from "../../src/engine/connection.js";
import type { AmqpSession } from "../../src/engine/session.js";
import { AMQPError } from "../../src/errors/amqp-error.js";
import { Attach, Begin, Close, Flow, Open, SaslInit, SaslOutcome } from "../../src/frames/performatives.js";
import { ProtocolId } from "../../src/frames/protocol-header.js";
import { SaslAnonymousMechanism } from "../../src/sasl/mechanisms.js";
import { createMemoryTransportPair } from "../../src/transport/memory.js";
import { ScriptedPeer } from "../support/scripted-peer.js";
import { within } from "../support/waits.js";
import {
  encodeFrame,
  fuzzFrame,
  linkFrame,
  leakedResources,
  PROBE_CHANNEL,
  ProcessFaults,
  streamEnd,
  turns,
  type FuzzFrame,
} from "./frame-arbitraries.js";

const SEED = Number(process.env["FUZZ_SEED"] ?? 0xc0ffee);
const SCALE = Math.max(1, Number(process.env["FUZZ_RUNS"] ?? 1));
const HANG_MS = 1500;

/** How a run is set up before the fuzz frames. */
interface Setup {
  readonly role: "client" | "server";
  /** SASL (ANONYMOUS) before the AMQP layer. */
  readonly sasl: boolean;
  /** 0: OPEN only; 1: and a session; 2: and a sender with a pending send and a receiver. */
  readonly depth: 0 | 1 | 2;
  /** The memory transport re-chunks what it delivers (undefined: as written). */
  readonly chunkSize: number | undefined;
  readonly maxFrameSize: number;
  /** The peer asks for heartbeats (a heartbeat timer runs on our side). */
  readonly peerIdleTimeOut: number | undefined;
  /** Let the engine run between fuzz frames. */
  readonly interleave: boolean;
  /** At the end the peer answers our CLOSE (else it stays silent until our close time-out). */
  readonly answerClose: boolean;
}

const setup: fc.Arbitrary<Setup> = fc.record({
  role: fc.constantFrom("client" as const, "server" as const),
  sasl: fc.boolean(),
  depth: fc.constantFrom(0 as const, 1 as const, 2 as const),
  chunkSize: fc.constantFrom(undefined, undefined, 1, 7, 300),
  maxFrameSize: fc.constantFrom(1024, 65536),
  peerIdleTimeOut: fc.constantFrom(undefined, 60_000),
  interleave: fc.boolean(),
  answerClose: fc.boolean(),
});

const frames = fc.array(fuzzFrame, { minLength: 1, maxLength: 6 });

/** Settles to "ok" / the rejection, or fails the property with "hang: …". */
async function settles(p: Promise<unknown>, what: string): Promise<void> {
  await within(
    p.then(
      () => undefined,
      (e: unknown) => {
        assert.ok(
          e instanceof AMQPError,
          `${what} rejected with a ${e instanceof Error ? e.name : typeof e}, not an AMQPError: ${String(e)}`,
        );
      },
    ),
    what,
    HANG_MS,
  );
}

const beginFields = { nextOutgoingId: 0, incomingWindow: 100, outgoingWindow: 100 };

/** The handshake the peer plays for `s`; resolves once the connection is open (and linked). */
async function handshake(
  s: Setup,
  conn: AmqpConnection,
  peer: ScriptedPeer,
  pending: [string, Promise<unknown>][],
): Promise<void> {
  const open = {
    containerId: "fuzz-peer",
    ...(s.peerIdleTimeOut === undefined ? {} : { idleTimeOut: s.peerIdleTimeOut }),
  };
  if (s.role === "client") {
    if (s.sasl) await peer.acceptSaslThenAmqp(open);
    else await peer.acceptAmqp(open);
  } else {
    if (s.sasl) {
      peer.header(ProtocolId.Sasl);
      await peer.frameNamed("SASL-MECHANISMS");
      peer.sasl(SaslInit, { mechanism: "ANONYMOUS" });
      const outcome = await peer.frameNamed("SASL-OUTCOME");
      assert.equal(outcome.fields["code"], 0);
    }
    peer.header(ProtocolId.Amqp);
    peer.frame(0, Open, open);
    await peer.headerNo(s.sasl ? 2 : 1);
    await peer.frameNamed("OPEN");
  }
  pending.push(["connection.opened()", conn.opened()]);
  await within(conn.opened(), "connection.opened()", HANG_MS);
  if (s.depth === 0) return;

  const session = conn.createSession();
  await peer.frameNamed("BEGIN");
  peer.frame(0, Begin, { remoteChannel: session.channel, ...beginFields });
  pending.push(["session.begun()", session.begun()]);
  await within(session.begun(), "session.begun()", HANG_MS);
  if (s.depth === 1) return;

  const sender = session.attachSender({ name: "sender", target: { address: "q" } });
  const receiver = session.attachReceiver({ name: "receiver", source: { address: "q" }, autoCredit: 5 });
  await peer.frameWhere((f) => f.name === "ATTACH" && f.fields["name"] === "receiver", "our ATTACHes");
  const terms = { source: { address: "q" }, target: { type: "target" as const, address: "q" } };
  peer.frame(0, Attach, { name: "sender", handle: 0, role: true, ...terms });
  peer.frame(0, Attach, { name: "receiver", handle: 1, role: false, initialDeliveryCount: 0, ...terms });
  peer.frame(0, Flow, { nextIncomingId: 0, ...beginFields, handle: 0, deliveryCount: 0, linkCredit: 10 });
  pending.push(["sender.attached()", sender.attached()], ["receiver.attached()", receiver.attached()]);
  await within(sender.attached(), "sender.attached()", HANG_MS);
  await within(receiver.attached(), "receiver.attached()", HANG_MS);
  const send = sender.send(Buffer.from([0x00, 0x53, 0x77, 0x45]));
  send.catch(() => undefined);
  pending.push(["sender.send()", send]);
  await peer.frameNamed("TRANSFER");
}

/** One run: handshake, fuzz frames, the checks of the property, teardown. */
async function runCase(s: Setup, fuzz: readonly FuzzFrame[]): Promise<AMQPError | undefined> {
  const faults = new ProcessFaults();
  faults.install();
  const before = process.getActiveResourcesInfo();
  const [ours, theirs] = createMemoryTransportPair(
    s.chunkSize === undefined ? {} : { chunkSize: s.chunkSize },
  );
  const peer = new ScriptedPeer(theirs);
  const conn = new AmqpConnection({
    role: s.role,
    containerId: "under-test",
    maxFrameSize: s.maxFrameSize,
    closeTimeoutMs: 40,
    ...(s.role === "client" && s.sasl ? { sasl: new SaslAnonymousMechanism() } : {}),
    ...(s.role === "server" && s.sasl ? { saslServer: { mechanisms: ["ANONYMOUS"] } } : {}),
  });
  const ended = { done: false };
  void conn.closed().then(() => {
    ended.done = true;
  });
  const pending: [string, Promise<unknown>][] = [];
  try {
    conn.start(ours);
    await handshake(s, conn, peer, pending);
    const handshakeFrames = peer.frames.length;

    for (const f of fuzz) {
      peer.raw(f.bytes);
      if (s.interleave) await turns(2);
    }
    await turns(6);

    const peerClosed = fuzz.some((f) => f.close === true);
    const end = streamEnd(Buffer.concat(fuzz.map((f) => f.bytes)), s.maxFrameSize);
    if (!conn.isClosing) {
      // Still open: the stream must not have ended in a size the reader has to refuse ...
      assert.notEqual(end, "framing-error", "the connection ignored a frame it must refuse");
      assert.equal(conn.error, undefined, `open with an error: ${String(conn.error)}`);
      // ... and, unless the reader is waiting for the rest of a frame, it is still usable.
      if (end === "boundary") {
        const mark = peer.frames.length;
        let probe: AmqpSession | undefined;
        try {
          probe = conn.createSession();
        } catch (e) {
          // Every channel taken by sessions the peer began is a typed refusal, not a failure.
          assert.ok(e instanceof AMQPError && e.condition === "amqp:resource-limit-exceeded", String(e));
        }
        if (probe) {
          const ch = probe.channel;
          const ours = await peer.frameWhere(
            (f) => peer.frames.indexOf(f) >= mark && f.name === "BEGIN" && f.channel === ch,
            "the probe's BEGIN",
          );
          assert.equal(ours.fields["remoteChannel"], undefined);
          peer.frame(PROBE_CHANNEL, Begin, { remoteChannel: ch, ...beginFields });
          await within(probe.begun(), "a new session on a connection that stayed open", HANG_MS);
        }
      }
    } else {
      // Ended or ending: with a typed error carrying a condition (or cleanly, if the peer closed).
      const err = conn.error;
      if (err === undefined) {
        assert.ok(peerClosed, "the connection is closing without an error, but the peer sent no CLOSE");
      } else {
        assert.ok(err instanceof AMQPError, `not an AMQPError: ${String(err)}`);
        assert.equal(typeof err.condition, "string", `${err.name} without a condition: ${err.message}`);
        if (!peerClosed) assert.match(err.condition!, /^amqp:/);
      }
      // Our CLOSE (if we wrote one) carries the same condition.
      const ourClose = peer.frames.slice(handshakeFrames).find((f) => f.name === "CLOSE");
      const closeError = ourClose?.fields["error"] as { condition?: string } | undefined;
      if (closeError !== undefined && err !== undefined && !peerClosed) {
        assert.equal(closeError.condition, err.condition);
      }
    }

    // Teardown: close (answered or not); everything settles, nothing is left behind.
    if (!ended.done) {
      const closing = conn.close();
      if (s.answerClose) {
        await peer.frameNamed("CLOSE");
        peer.frame(0, Close, {});
      }
      await settles(closing, "connection.close()");
    }
    const final = await within(conn.closed(), "connection.closed()", HANG_MS);
    assert.ok(final === undefined || final instanceof AMQPError);
    for (const [what, p] of pending) await settles(p, what);
    await peer.ended();
    assert.equal(conn.isOpen, false);
    assert.throws(() => conn.createSession());
    assert.equal(peer.parseError, undefined, "everything the engine wrote parses");
    await turns(3);
    const leaked = leakedResources(before, process.getActiveResourcesInfo());
    assert.deepEqual(leaked, [], `left behind: ${leaked.join(", ")}`);
    assert.deepEqual(faults.faults, []);
    return conn.error;
  } finally {
    faults.uninstall();
    // Never leave a transport open behind a failed run.
    ours.destroy();
    theirs.destroy();
  }
}

describe("fuzz: a connection survives a hostile peer", () => {
  it("client and server role, after OPEN (and BEGIN, ATTACH): arbitrary frames end typed or leave it usable", async () => {
    await fc.assert(
      fc.asyncProperty(setup, frames, async (s, fuzz) => {
        await runCase(s, fuzz);
      }),
      { seed: SEED, numRuns: 250 * SCALE },
    );
  });

  it("valid performatives only, out of order and on wrong channels and handles", async () => {
    const valid = fc.array(
      fuzzFrame.filter((f) => / ch\d+$/.test(f.label)),
      { minLength: 1, maxLength: 8 },
    );
    await fc.assert(
      fc.asyncProperty(setup, valid, async (s, fuzz) => {
        await runCase(s, fuzz);
      }),
      { seed: SEED + 1, numRuns: 150 * SCALE },
    );
  });

  it("session and link performatives on the session's channel: wrong handles and ids end the session or link, typed", async () => {
    const linked = setup.map((s) => ({ ...s, depth: 2 as const }));
    await fc.assert(
      fc.asyncProperty(linked, fc.array(linkFrame, { minLength: 1, maxLength: 8 }), async (s, fuzz) => {
        await runCase(s, fuzz);
      }),
      { seed: SEED + 2, numRuns: 150 * SCALE },
    );
  });

  it("a SASL outcome (type-1 frame) after OPEN closes with a framing error, in both roles", async () => {
    for (const role of ["client", "server"] as const) {
      const err = await runCase(
        {
          role,
          sasl: false,
          depth: 1,
          chunkSize: undefined,
          maxFrameSize: 65536,
          peerIdleTimeOut: undefined,
          interleave: false,
          answerClose: true,
        },
        [{ label: "SASL-OUTCOME", bytes: encodeFrame(1, 0, SaslOutcome, { code: 0 }) }],
      );
      assert.equal(err?.condition, "amqp:connection:framing-error", role);
    }
  });
});
