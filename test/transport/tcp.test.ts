import assert from "node:assert/strict";
import { createServer, type Server } from "node:net";
import { afterEach, describe, it } from "node:test";
import {
  ConnectFailedError,
  connectTcp,
  listenTcp,
  TransportError,
  type Transport,
  type TransportServer,
} from "../../src/transport/index.js";
import { AMQPAbortError, AMQPError } from "../../src/errors/index.js";
import {
  Accepted,
  checkPause,
  pattern,
  record,
  rejection,
  settle,
  within,
  type Recorder,
} from "./helpers.js";

const cleanup: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const fn of cleanup.splice(0).reverse()) await fn();
});

async function server(accepted = new Accepted()): Promise<{ server: TransportServer; accepted: Accepted }> {
  const s = await listenTcp({}, accepted.onTransport);
  cleanup.push(() => s.close());
  return { server: s, accepted };
}

async function client(s: TransportServer): Promise<Transport> {
  const t = await within(connectTcp({ host: s.host, port: s.port, timeoutMs: 5000 }), "connectTcp");
  cleanup.push(() => t.destroy());
  return t;
}

/** A port nothing listens on (bound then released). */
async function freePort(): Promise<number> {
  const s: Server = createServer();
  await new Promise<void>((resolve) => s.listen(0, "127.0.0.1", resolve));
  const { port } = s.address() as { port: number };
  await new Promise<void>((resolve) => s.close(() => resolve()));
  return port;
}

describe("TCP transport", { timeout: 30_000 }, () => {
  it("binds 127.0.0.1 by default and describes both ends", async () => {
    const { server: s, accepted } = await server();
    assert.equal(s.host, "127.0.0.1");
    assert.ok(s.port > 0);
    const t = await client(s);
    assert.equal(t.encrypted, false);
    assert.equal(t.remoteAddress, "127.0.0.1");
    assert.equal(t.remotePort, s.port);
    assert.equal(t.peerCertificate, undefined);
    assert.equal(t.description, `tcp 127.0.0.1:${s.port}`);
    const { transport } = await accepted.first();
    assert.match(transport.description, /^tcp from 127\.0\.0\.1:\d+$/);
  });

  it("echoes bytes (round trip)", async () => {
    const { server: s } = await server();
    const t = await client(s);
    const r = record(t);
    assert.equal(t.write(Buffer.from("hello")), true);
    assert.equal((await r.waitBytes(5)).toString(), "hello");
  });

  it("writes 5 MiB with back-pressure: write returns false, onDrain follows, bytes are identical", async () => {
    const { server: s } = await server();
    const t = await client(s);
    const r = record(t);
    const payload = pattern(5 * 1024 * 1024);
    assert.equal(t.write(payload), false, "a 5 MiB write exceeds the high-water mark");
    await r.waitDrain();
    assert.equal(r.drains, 1);
    const got = await r.waitBytes(payload.length, "the 5 MiB echo");
    assert.equal(got.length, payload.length);
    assert.ok(got.equals(payload), "echoed bytes differ");
  });

  it("pause() stops reading until resume(): the bytes written meanwhile arrive after it, in order (both sides)", async () => {
    const { server: s, accepted } = await server(new Accepted(record));
    const t = await client(s);
    const clientSide = record(t);
    const { transport, recorder: serverSide } = await accepted.first();
    // The accepting side reads through Node's data events, the connecting side through its own reads.
    const sides: [Transport, Transport, Recorder][] = [
      [transport, t, serverSide],
      [t, transport, clientSide],
    ];
    for (const [paused, writer, r] of sides) await checkPause(paused, writer, r);
  });

  it("writev keeps the order of chunks and of later writes", async () => {
    const { server: s, accepted } = await server();
    const t = await client(s);
    t.writev([Buffer.from("ab"), new Uint8Array([0x63, 0x64]), Buffer.from("ef")]);
    t.write(Buffer.from("gh"));
    t.writev([Buffer.from("ij")]);
    t.writev([]);
    const { recorder } = await accepted.first();
    assert.equal((await recorder.waitBytes(10)).toString(), "abcdefghij");
  });

  it("delivers data that arrived before setHandler, in order, then hands over to a new handler", async () => {
    const greeter = new Accepted((transport) => {
      const r = record(transport);
      transport.write(Buffer.from("early-1,"));
      transport.write(Buffer.from("early-2,"));
      return r;
    });
    const { server: s } = await server(greeter);
    const t = await client(s);
    const { transport } = await greeter.first();
    await settle(); // the bytes (normally) arrive while the client has no handler
    const first = record(t);
    assert.equal((await first.waitBytes(16)).toString(), "early-1,early-2,");
    const second = record(t);
    transport.write(Buffer.from("later"));
    assert.equal((await second.waitBytes(5)).toString(), "later");
    assert.equal(first.bytes, 16, "the replaced handler gets nothing more");
  });

  it("connecting side: chunks handed over stay intact while later reads arrive (small ones copied out of reused memory)", async () => {
    const { server: s, accepted } = await server(new Accepted(record));
    const t = await client(s);
    const r = record(t);
    const { transport } = await accepted.first();
    // Small writes one at a time (each its own read), then a large one, then small ones again.
    const sent: Buffer[] = [];
    const sizes = [5, 100, 3000, 16_384, 16_385, 200_000, 7, 64 * 1024, 1];
    for (const [i, size] of sizes.entries()) {
      const chunk = pattern(size, i + 1);
      sent.push(chunk);
      transport.write(chunk);
      await r.waitBytes(
        sent.reduce((n, c) => n + c.length, 0),
        `write ${i} of ${size} bytes`,
      );
    }
    assert.ok(r.received().equals(Buffer.concat(sent)), "every chunk kept reads as it arrived");
  });

  it("connecting side: reads into the memory the handler offers (readInto), then into its own again", async () => {
    const { server: s, accepted } = await server(new Accepted(record));
    const t = await client(s);
    const chunks: Buffer[] = [];
    const offered = Buffer.alloc(1000);
    let offers = 0;
    let waiter: (() => void) | undefined;
    t.setHandler({
      onData(chunk) {
        chunks.push(Buffer.from(chunk));
        if (chunk.buffer === offered.buffer) chunks.push(Buffer.from("(in place)"));
        waiter?.();
      },
      readInto() {
        // Offered once, after the first chunk.
        if (chunks.length !== 1) return undefined;
        offers++;
        return offered;
      },
      onDrain() {},
      onClose() {},
    });
    const { transport } = await accepted.first();
    const bytesIn = (): number => chunks.reduce((n, c) => n + c.length, 0);
    const until = (n: number): Promise<void> =>
      within(
        new Promise<void>((resolve) => {
          waiter = () => {
            if (bytesIn() >= n) resolve();
          };
          waiter();
        }),
        `${n} bytes`,
      );
    transport.write(Buffer.from("first"));
    await until(5);
    const rest = pattern(3000, 9);
    transport.write(rest);
    await until(5 + 10 + 3000);
    assert.equal(offers, 1);
    assert.equal(chunks[0]!.toString(), "first");
    assert.equal(
      chunks[2]!.toString(),
      "(in place)",
      "the chunk after the offer is a view of the offered memory",
    );
    assert.ok(chunks[1]!.length <= 1000 && chunks[1]!.length > 0);
    assert.ok(offered.subarray(0, chunks[1]!.length).equals(rest.subarray(0, chunks[1]!.length)));
    const got = Buffer.concat(chunks.filter((c, i) => i !== 2));
    assert.ok(got.equals(Buffer.concat([Buffer.from("first"), rest])), "the bytes, in order");
  });

  it("end() closes both sides gracefully, onClose exactly once", async () => {
    const { server: s, accepted } = await server();
    const t = await client(s);
    const r = record(t);
    t.write(Buffer.from("bye"));
    t.end();
    assert.equal(t.write(Buffer.from("late")), false, "writes after end are refused");
    assert.equal(await r.waitClosed(), undefined);
    const { recorder } = await accepted.first();
    assert.equal(await recorder.waitClosed(), undefined);
    assert.equal(recorder.received().toString(), "bye");
    t.end();
    t.destroy(new Error("again"));
    await settle();
    assert.equal(r.closeCalls, 1);
    assert.equal(recorder.closeCalls, 1);
    assert.equal(r.callsAfterClose, 0);
  });

  it("destroy(error) reports that error once; the peer sees the close", async () => {
    const { server: s, accepted } = await server();
    const t = await client(s);
    const r = record(t);
    const { recorder } = await accepted.first();
    const reason = new Error("local reason");
    t.destroy(reason);
    t.destroy();
    t.end();
    assert.equal(await r.waitClosed(), reason);
    await recorder.waitClosed("server-side onClose");
    await settle();
    assert.equal(r.closeCalls, 1);
    assert.equal(recorder.closeCalls, 1);
  });

  it("destroy() before setHandler: onClose is delivered when the handler is set", async () => {
    const { server: s } = await server();
    const t = await client(s);
    t.destroy();
    await settle();
    const r = record(t);
    assert.equal(await r.waitClosed(), undefined);
    assert.equal(r.closeCalls, 1);
  });

  it("a handler exception destroys the transport with that exception", async () => {
    const { server: s } = await server();
    const t = await client(s);
    const boom = new Error("handler bug");
    let closedWith: Error | undefined;
    let closes = 0;
    const closed = new Promise<void>((resolve) => {
      t.setHandler({
        onData() {
          throw boom;
        },
        onDrain() {},
        onClose(error) {
          closes++;
          closedWith = error;
          resolve();
        },
      });
    });
    t.write(Buffer.from("x"));
    await within(closed, "onClose after a handler exception");
    assert.equal(closedWith, boom);
    assert.equal(closes, 1);
  });

  it("server close() destroys open transports and resolves", async () => {
    const { server: s } = await server();
    const t = await client(s);
    const r = record(t);
    await within(s.close(), "server close");
    await r.waitClosed();
    await within(s.close(), "second close");
    assert.equal(r.closeCalls, 1);
  });

  it("connection refused: ConnectFailedError, retryable, with the system code", async () => {
    const port = await freePort();
    const error = await rejection(
      connectTcp({ host: "127.0.0.1", port, timeoutMs: 5000 }),
      "refused connect",
    );
    assert.ok(error instanceof ConnectFailedError);
    assert.ok(error instanceof TransportError);
    assert.ok(error instanceof AMQPError);
    assert.equal(error.code, "AMQP_CONNECT_FAILED");
    assert.equal(error.systemCode, "ECONNREFUSED");
    assert.equal(error.retryable, true);
    assert.match(error.message, new RegExp(`127\\.0\\.0\\.1:${port}`));
  });

  it("an already aborted signal rejects at once with AMQPAbortError", async () => {
    const { server: s } = await server();
    const controller = new AbortController();
    const reason = new Error("user gave up");
    controller.abort(reason);
    const error = await rejection(
      connectTcp({ host: s.host, port: s.port, signal: controller.signal }),
      "aborted connect",
    );
    assert.ok(error instanceof AMQPAbortError);
    assert.equal(error.code, "AMQP_ABORTED");
    assert.equal(error.name, "AbortError");
    assert.equal(error.cause, reason);
    assert.equal(error.retryable, false);
  });

  it("listening on a port in use fails with a TransportError", async () => {
    const { server: s } = await server();
    const error = await rejection(
      listenTcp({ port: s.port }, () => undefined),
      "listen on a used port",
    );
    assert.ok(error instanceof TransportError);
    assert.equal(error.systemCode, "EADDRINUSE");
  });
});
