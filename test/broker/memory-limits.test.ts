/**
 * Bounded broker memory (docs/broker.md, "Memory"), with rhea as the client: the bytes of stored
 * messages per queue and in total, producer credit withheld at `maxQueueBytes` / `maxTotalBytes`
 * until the low-water mark, messages in flight rejected with `amqp:resource-limit-exceeded`, the
 * anonymous relay, event hubs and Service Bus scheduled messages in the count, and the limits on the
 * number of queues (`maxQueues`) and of links per connection (`maxLinksPerConnection`).
 */
import assert from "node:assert/strict";
import type { EventEmitter } from "node:events";
import { describe, it } from "node:test";
import rhea from "rhea";
import { BROKER_DEFAULTS } from "../../src/broker/index.js";
import { nodeRequest } from "./cbs-client.js";
import {
  attachError,
  brokerFixture,
  collect,
  connect,
  openReceiver,
  openSender,
  quiet,
  sendAll,
  until,
  waitEvent,
} from "./rhea-client.js";

const KiB = 1024;
const OVERHEAD = 256;

/** The credit a rhea sender holds (not in rhea's typings). */
const credit = (s: rhea.Sender): number => (s as unknown as { credit: number }).credit;

/** A message with a `size`-byte data section and `id` as message-id. */
const sized = (id: string, size: number, extra: Partial<rhea.Message> = {}): rhea.Message => ({
  message_id: id,
  body: rhea.message.data_section(Buffer.alloc(size, 0x62)),
  ...extra,
});

/** What the broker counts for a message: its encoded size plus the overhead. */
const counted = (m: rhea.Message): number => rhea.message.encode(m).length + OVERHEAD;

/** The outcome of each message given to {@link produce}, by message-id. */
interface Produced {
  readonly accepted: string[];
  readonly rejected: { id: string; condition: string | undefined; description: string | undefined }[];
  /** Messages given to rhea: those without an outcome yet wait for credit. */
  readonly given: number;
}

/**
 * Gives `messages` to a rhea sender as its credit allows (rhea queues what it is given while
 * `sendable()`) and records each outcome as it arrives; the returned object fills in over time.
 * rhea writes a session's queued messages in order, so a message waiting for credit holds back the
 * others of its session: each producer here has a connection of its own.
 */
function produce(s: rhea.Sender, messages: readonly rhea.Message[]): Produced {
  const out = { accepted: [] as string[], rejected: [] as Produced["rejected"], given: 0 };
  const e = s as unknown as EventEmitter;
  const idOf = (ctx: rhea.EventContext): string => String(ctx.delivery?.tag.toString());
  e.on("accepted", (ctx: rhea.EventContext) => out.accepted.push(idOf(ctx)));
  e.on("rejected", (ctx: rhea.EventContext) => {
    const state = ctx.delivery?.remote_state as { error?: { condition?: string; description?: string } };
    const err = state.error;
    out.rejected.push({ id: idOf(ctx), condition: err?.condition, description: err?.description });
  });
  const pump = (): void => {
    while (out.given < messages.length && s.sendable()) {
      const m = messages[out.given++]!;
      s.send(m, Buffer.from(String(m.message_id)));
    }
  };
  e.on("sendable", pump);
  pump();
  return out;
}

/** Waits until `read()` has not changed for `ms` (no more progress), at most `timeoutMs`. */
async function settled<T>(read: () => T, what: string, ms = 150, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last = JSON.stringify(read());
  let since = Date.now();
  for (;;) {
    await new Promise((r) => setTimeout(r, 10));
    const now = JSON.stringify(read());
    if (now !== last) {
      last = now;
      since = Date.now();
    } else if (Date.now() - since >= ms) {
      return read();
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what} to settle`);
  }
}

/**
 * Receives `n` messages from each address, all at once (a producer held back by the broker's total
 * may need another queue drained first), and returns their message-ids by address, checking there
 * are no more.
 */
async function drain(
  c: rhea.Connection,
  counts: Readonly<Record<string, number>>,
): Promise<Record<string, string[]>> {
  const receivers = await Promise.all(
    Object.keys(counts).map((address) => openReceiver(c, { source: address, credit_window: 5 })),
  );
  const got = await Promise.all(receivers.map((r, i) => collect(r, Object.values(counts)[i]!, 20_000)));
  const out: Record<string, string[]> = {};
  for (const [i, address] of Object.keys(counts).entries()) {
    assert.equal((await quiet(receivers[i]!, 100)).length, 0, `more messages in ${address}`);
    receivers[i]!.close();
    out[address] = got[i]!.map((m) => String(m.message?.message_id));
  }
  return out;
}

/** rhea opens links on a session as on a connection: the helpers take either. */
const onSession = (s: rhea.Session): rhea.Connection => s as unknown as rhea.Connection;

const ids = (prefix: string, n: number): string[] => Array.from({ length: n }, (_, i) => `${prefix}-${i}`);

describe("broker: bounded memory", () => {
  const { setup, keep } = brokerFixture();

  it("has developer-machine defaults: 64 MiB per queue, 256 MiB in total, 10,000 queues, 4096 links per connection", () => {
    assert.equal(BROKER_DEFAULTS.limits.maxQueueBytes, 64 * 1024 * KiB);
    assert.equal(BROKER_DEFAULTS.limits.maxTotalBytes, 256 * 1024 * KiB);
    assert.equal(BROKER_DEFAULTS.limits.maxQueues, 10_000);
    assert.equal(BROKER_DEFAULTS.limits.maxLinksPerConnection, 4096);
  });

  it("counts each message's encoded size plus 256 bytes per queue and in total, and gives it back as it goes", async () => {
    const { b, c } = await setup();
    const messages = [sized("a", 10), sized("b", 1000), sized("c", 70 * KiB)];
    assert.deepEqual(await sendAll(await openSender(c, "counted"), messages), [
      "accepted",
      "accepted",
      "accepted",
    ]);
    const expected = messages.reduce((n, m) => n + counted(m), 0);
    assert.equal(b.stats("counted").byteCount, expected);
    assert.equal(b.byteCount, expected);
    // A rejected message moves to the dead-letter queue: its bytes move with it.
    const r = await openReceiver(c, { source: "counted", autoaccept: false, credit_window: 0 });
    r.add_credit(1);
    const first = (await collect(r, 1))[0]!;
    first.delivery!.reject({ condition: "test:bad", description: "no" });
    await until(() => b.stats("counted/$deadletter").messageCount === 1, "the dead letter");
    assert.equal(b.stats("counted").byteCount, expected - counted(messages[0]!));
    assert.equal(b.stats("counted/$deadletter").byteCount, counted(messages[0]!));
    assert.equal(b.byteCount, expected);
    r.add_credit(2);
    for (const m of await collect(r, 2)) m.delivery!.accept();
    await until(() => b.stats("counted").byteCount === 0, "the queue to empty");
    assert.equal(b.byteCount, counted(messages[0]!));
    b.deleteQueue("counted");
    assert.equal(b.byteCount, 0);
  });

  it("gives a new producer the credit its largest possible messages fit, then as many as its own messages fit", async () => {
    const { c } = await setup({ limits: { maxQueueBytes: 256 * KiB, maxMessageSize: 64 * KiB } });
    const s = await openSender(c, "first-credit");
    await until(() => credit(s) > 0, "the first credit");
    // Nothing known of its messages: it gets what 64 KiB messages fit in 256 KiB.
    assert.equal(credit(s), Math.ceil((256 * KiB) / (64 * KiB + OVERHEAD)));
    assert.deepEqual(await sendAll(s, [sized("small", 10)]), ["accepted"]);
    await until(() => credit(s) > 4, "credit for small messages");
    assert.equal(credit(s), BROKER_DEFAULTS.limits.producerCredit);
  });

  it("withholds credit at maxQueueBytes and gives it back only once consumers drained the queue to three quarters", async () => {
    const limit = 64 * KiB;
    const lowWater = limit * 0.75;
    const { b, c } = await setup({ limits: { maxQueueBytes: limit } });
    const arrivals: { before: number; size: number }[] = [];
    b.observe((e) => {
      if (e.type === "message" && e.address === "held") {
        arrivals.push({ before: b.stats("held").byteCount, size: e.payload.length + OVERHEAD });
      }
    });
    const s = await openSender(c, "held");
    const all = ids("held", 40).map((id) => sized(id, 4 * KiB));
    const out = produce(s, all);
    const full = await settled(() => out.accepted.length, "the producer");
    assert.ok(full > 0 && full < all.length, `accepted ${full}`);
    const stats = b.stats("held");
    assert.ok(
      stats.byteCount >= limit && stats.byteCount < limit + counted(all[0]!),
      `${stats.byteCount} bytes`,
    );
    assert.equal(credit(s), 0);
    assert.ok(out.given > full, "the producer had nothing waiting for credit");
    // A consumer drains; the producer fills again at the low-water mark; everything arrives once.
    const consumer = keep(await connect(b.port!));
    assert.deepEqual(await drain(consumer, { held: all.length }), { held: ids("held", 40) });
    assert.deepEqual(out.accepted, ids("held", 40));
    assert.deepEqual(out.rejected, []);
    // No message arrived while the queue was full, and after filling it the next arrived at low water.
    for (let i = 0; i < arrivals.length; i++) {
      const a = arrivals[i]!;
      assert.ok(a.before < limit, `message ${i} arrived with ${a.before} bytes in the queue`);
      const next = arrivals[i + 1];
      if (next && a.before + a.size >= limit) {
        assert.ok(
          next.before <= lowWater,
          `message ${i + 1} arrived at ${next.before} bytes, above low water`,
        );
      }
    }
    assert.ok(
      arrivals.some((a) => a.before + a.size >= limit),
      "the queue never filled",
    );
  });

  it("holds every producer back once the broker's total reaches maxTotalBytes, however empty their queues", async () => {
    const total = 64 * KiB;
    const { b, c } = await setup({ limits: { maxTotalBytes: total, maxQueueBytes: 40 * KiB } });
    const one = produce(
      await openSender(c, "total-1"),
      ids("one", 20).map((id) => sized(id, 4 * KiB)),
    );
    await settled(() => one.accepted.length, "the first producer");
    assert.ok(b.stats("total-1").byteCount >= 40 * KiB, "the first queue is full");
    const s2 = await openSender(keep(await connect(b.port!)), "total-2");
    const two = produce(
      s2,
      ids("two", 20).map((id) => sized(id, 4 * KiB)),
    );
    await settled(() => two.accepted.length, "the second producer");
    const size = counted(sized("x", 4 * KiB));
    assert.ok(b.byteCount >= total && b.byteCount < total + size, `${b.byteCount} bytes in total`);
    assert.ok(b.stats("total-2").byteCount < 40 * KiB - size, "the second queue is far from its own limit");
    assert.equal(credit(s2), 0);
    assert.ok(two.accepted.length < 20);
    // Draining the first queue makes room for both.
    const consumer = keep(await connect(b.port!));
    assert.deepEqual(await drain(consumer, { "total-1": 20, "total-2": 20 }), {
      "total-1": ids("one", 20),
      "total-2": ids("two", 20),
    });
    assert.deepEqual([one.rejected, two.rejected], [[], []]);
    assert.equal(b.byteCount, 0);
  });

  it("rejects a message in flight when its queue filled meanwhile (amqp:resource-limit-exceeded); nothing accepted is lost", async () => {
    const { b, c } = await setup({ limits: { maxQueueBytes: 64 * KiB, maxMessageSize: 16 * KiB } });
    const late = await openSender(c, "raced");
    await until(() => credit(late) > 0, "the late producer's credit");
    const early = produce(
      await openSender(keep(await connect(b.port!)), "raced"),
      ids("early", 30).map((id) => sized(id, 4 * KiB)),
    );
    await settled(() => early.accepted.length, "the early producer");
    assert.ok(b.stats("raced").byteCount >= 64 * KiB);
    const lateOut = produce(late, [sized("late", 100)]);
    await until(() => lateOut.rejected.length === 1, "the late message's outcome");
    assert.equal(lateOut.rejected[0]!.condition, "amqp:resource-limit-exceeded");
    assert.match(lateOut.rejected[0]!.description!, /'raced' is full.*maxQueueBytes/);
    const consumer = keep(await connect(b.port!));
    assert.deepEqual(await drain(consumer, { raced: 30 }), { raced: ids("early", 30) });
    assert.deepEqual(early.rejected, []);
  });

  it("relay: withholds the relay's credit while the broker is full; after the drain every message arrives once", async () => {
    const { b, c } = await setup({ limits: { maxQueueBytes: 16 * KiB, maxTotalBytes: 48 * KiB } });
    const filler = produce(
      await openSender(keep(await connect(b.port!)), "relay-full"),
      ids("fill", 8).map((id) => sized(id, 4 * KiB)),
    );
    await settled(() => filler.accepted.length, "the filler");
    assert.ok(b.stats("relay-full").byteCount >= 16 * KiB);
    const relay = await openSender(c, { target: {} });
    // Its destinations take messages until the total is reached; then the relay gets no credit.
    const queues = ["r-a", "r-b", "r-c", "r-d"];
    const relayed = ids("relayed", 16).map((id, i) => sized(id, 4 * KiB, { to: queues[i % 4]! }));
    const out = produce(relay, relayed);
    await settled(() => out.accepted.length, "the relay");
    assert.ok(b.byteCount >= 48 * KiB, `${b.byteCount} bytes`);
    assert.equal(credit(relay), 0);
    assert.ok(out.accepted.length < relayed.length);
    const consumer = keep(await connect(b.port!));
    const got = await drain(consumer, { "relay-full": 8, "r-a": 4, "r-b": 4, "r-c": 4, "r-d": 4 });
    assert.deepEqual(got["relay-full"], ids("fill", 8));
    assert.deepEqual(Object.values(got).flat().sort(), [...ids("fill", 8), ...ids("relayed", 16)].sort());
    assert.deepEqual(out.rejected, []);
  });

  it("relay: the rejection names the full queue and its limit", async () => {
    const { b, c } = await setup({ limits: { maxQueueBytes: 8 * KiB } });
    await sendAll(await openSender(c, "named-full"), [sized("n1", 8 * KiB)]);
    assert.ok(b.stats("named-full").byteCount >= 8 * KiB);
    const relay = await openSender(c, { target: {} });
    const out = produce(relay, [sized("n2", 10, { to: "named-full" }), sized("n3", 10, { to: "elsewhere" })]);
    await until(() => out.rejected.length + out.accepted.length === 2, "both outcomes");
    assert.deepEqual(out.accepted, ["n3"]);
    assert.equal(out.rejected[0]!.condition, "amqp:resource-limit-exceeded");
    assert.match(
      out.rejected[0]!.description!,
      /the queue 'named-full' is full: .* 8192 bytes \(limits\.maxQueueBytes\)/,
    );
  });

  it("counts the events event hubs retain in the total: once it is reached their producers and everyone else's are held back", async () => {
    const total = 32 * KiB;
    const { b, c } = await setup({ limits: { maxTotalBytes: total } });
    const s = await openSender(c, "hub/Partitions/0");
    const out = produce(
      s,
      ids("event", 20).map((id) => sized(id, 4 * KiB)),
    );
    await settled(() => out.accepted.length, "the event hub producer");
    const p = b.eventHubStats("hub")!.partitions[0]!;
    assert.equal(b.byteCount, p.bytes + p.eventCount * OVERHEAD);
    assert.ok(b.byteCount >= total, `${b.byteCount} bytes`);
    assert.equal(p.eventCount, out.accepted.length);
    assert.equal(credit(s), 0);
    assert.ok(out.accepted.length < 20);
    const queued = await openSender(c, "after-the-hub");
    // A FLOW would have come right after the ATTACH answer: one more attach is a round trip past it.
    await openReceiver(c, { source: "after-the-hub", credit_window: 0 });
    assert.equal(credit(queued), 0, "a queue producer got credit while the broker is full");
  });

  it("counts Service Bus scheduled messages against their queue while they wait", async () => {
    const { b, c } = await setup();
    const later = new Date(Date.now() + 3_600_000);
    const m = sized("scheduled", 2 * KiB, { message_annotations: { "x-opt-scheduled-enqueue-time": later } });
    assert.deepEqual(await sendAll(await openSender(c, "sched"), [m]), ["accepted"]);
    assert.equal(b.stats("sched").messageCount, 0);
    assert.equal(b.stats("sched").byteCount, counted(m));
    assert.equal(b.byteCount, counted(m));
    b.deleteQueue("sched");
    assert.equal(b.byteCount, 0);
  });

  it("refuses queues beyond maxQueues (attach, relay, $management CREATE, dynamic node) with amqp:resource-limit-exceeded", async () => {
    const { b, c } = await setup({ limits: { maxQueues: 3 } });
    for (const q of ["q-a", "q-b"]) await openSender(c, q);
    await openReceiver(c, { source: "q-c", autoaccept: false, credit_window: 0 });
    const refused = await attachError(openSender(c, "q-d"));
    assert.equal(refused.condition, "amqp:resource-limit-exceeded");
    assert.match(refused.description!, /limit of 3 queues \(limits\.maxQueues\)/);
    assert.equal(
      (await attachError(openReceiver(c, { source: { dynamic: true } as unknown as rhea.Source }))).condition,
      "amqp:resource-limit-exceeded",
    );
    const relay = await openSender(c, { target: {} });
    const out = produce(relay, [sized("r", 1, { to: "q-e" }), sized("ok", 1, { to: "q-a" })]);
    await until(() => out.accepted.length + out.rejected.length === 2, "the relay's outcomes");
    assert.deepEqual(out.accepted, ["ok"]);
    assert.equal(out.rejected[0]!.condition, "amqp:resource-limit-exceeded");
    const create = await nodeRequest(c, "$management", { operation: "CREATE", name: "q-f" });
    assert.equal(create.application_properties!["statusCode"], 503);
    assert.equal(create.application_properties!["errorCondition"], "amqp:resource-limit-exceeded");
    assert.equal(b.deniedRequests, 0, "a full broker is not a denial");
    // Dead letters still find their queue, and a deleted queue frees its place.
    const r = await openReceiver(c, { source: "q-a", autoaccept: false, credit_window: 1 });
    (await collect(r, 1))[0]!.delivery!.reject();
    await until(() => b.stats("q-a/$deadletter").messageCount === 1, "the dead letter");
    assert.deepEqual(b.queueNames().sort(), ["q-a", "q-a/$deadletter", "q-b", "q-c"]);
    const deleted = await nodeRequest(c, "$management", { operation: "DELETE", name: "q-b" });
    assert.equal(deleted.application_properties?.["statusCode"], 200);
    await openSender(c, "q-d");
    assert.equal((await attachError(openSender(c, "q-g"))).condition, "amqp:resource-limit-exceeded");
  });

  it("refuses links beyond maxLinksPerConnection, over all sessions; a detached link frees its place", async () => {
    const { b, c } = await setup({ limits: { maxLinksPerConnection: 3 } });
    const first = await openSender(c, "links");
    await openReceiver(c, "links");
    const other = c.create_session();
    const began = waitEvent(other, "session_open");
    other.begin();
    await began;
    await openSender(onSession(other), "links");
    const refused = await attachError(openReceiver(onSession(other), "links"));
    assert.equal(refused.condition, "amqp:resource-limit-exceeded");
    assert.match(String(refused.description), /at most 3 links may be attached per connection/);
    // Another connection is not affected; closing a link makes room on this one.
    const c2 = keep(await connect(b.port!));
    await openSender(c2, "links");
    const closed = waitEvent(first, "sender_close");
    first.close();
    await closed;
    await until(() => b.stats("links").producerCount === 2, "the closed link to go");
    await openReceiver(onSession(other), "links");
  });
});
