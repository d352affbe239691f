/** rhea (the de-facto JS AMQP 1.0 library) as an in-process peer on port 0. */
import rhea from "rhea";
import { AMQPDescribed, AMQPuLong, decodeAt } from "../../src/codec/index.js";
import type { AddressInfo, Socket } from "node:net";

export interface RheaServer {
  container: rhea.Container;
  port: number;
  close(): Promise<void>;
}

export async function startRheaServer(
  setup: (c: rhea.Container) => void,
  options: Record<string, unknown> = {},
): Promise<RheaServer> {
  const container = rhea.create_container({ id: "rhea-server" });
  setup(container);
  const server = container.listen({ port: 0, host: "127.0.0.1", ...options });
  await new Promise<void>((resolve) => server.once("listening", () => resolve()));
  const port = (server.address() as AddressInfo).port;
  const sockets = new Set<Socket>();
  server.on("connection", (s) => {
    sockets.add(s);
    s.on("close", () => sockets.delete(s));
  });
  return {
    container,
    port,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

/** Encodes an amqp-value section holding a string (a minimal valid message for rhea). */
export function valueMessage(text: string): Buffer {
  const body = Buffer.from(text, "utf8");
  if (body.length < 256) return Buffer.concat([Buffer.from([0x00, 0x53, 0x77, 0xa1, body.length]), body]);
  const head = Buffer.from([0x00, 0x53, 0x77, 0xb1, 0, 0, 0, 0]);
  head.writeUInt32BE(body.length, 4);
  return Buffer.concat([head, body]);
}

/** The amqp-value body of an encoded message (sections decoded with our codec). */
export function valueOf(payload: Uint8Array): unknown {
  let off = 0;
  let body: unknown;
  while (off < payload.length) {
    const r = decodeAt(payload, off);
    off = r.offset;
    if (
      r.value instanceof AMQPDescribed &&
      r.value.descriptor instanceof AMQPuLong &&
      r.value.descriptor.value === 0x77n
    ) {
      body = r.value.value;
    }
  }
  return body;
}

// rhea decodes format-0 transfers before handing them out: remember the raw payload of each message.
const rawPayloads = new WeakMap<object, Buffer>();
const rheaDecode = rhea.message.decode.bind(rhea.message);
rhea.message.decode = (buffer: Buffer) => {
  const m = rheaDecode(buffer);
  rawPayloads.set(m, Buffer.from(buffer));
  return m;
};

/** The raw bytes of a message rhea received. */
export function rawPayloadOf(message: object | undefined): Buffer | undefined {
  return message === undefined ? undefined : rawPayloads.get(message);
}

/** The address of the peer's source or target of a rhea link (rhea's typings lack `remote`). */
function remoteAddress(link: object, which: "source" | "target"): string {
  const remote = (link as { remote: { attach: Record<string, { address?: unknown } | undefined> } }).remote;
  const a = remote.attach[which]?.address;
  return typeof a === "string" ? a : "";
}

/** The outcome a peer gave a delivery rhea sent ("" while none). */
function outcomeOf(delivery: rhea.Delivery): string {
  const state = (delivery as unknown as { remote_state?: { constructor?: { composite_type?: unknown } } })
    .remote_state;
  const type = state?.constructor?.composite_type;
  return typeof type === "string" ? type : "";
}

/**
 * rhea as a store-and-forward server: messages sent to an address are kept (accepted) and handed
 * byte-exact to receivers of that address as their credit allows. A delivery the receiver releases
 * or modifies, and the unsettled deliveries of a receiver that detaches or disconnects, go back to
 * the head of their queue in their order (bytes unchanged: no delivery-count update). PLAIN
 * user/pass is offered too. `attached` lists the addresses of the termini of every link attached.
 */
export async function startRheaQueueServer(
  options: Record<string, unknown> = {},
): Promise<RheaServer & { queues: Map<string, Buffer[]>; attached: string[] }> {
  const queues = new Map<string, Buffer[]>();
  const consumers = new Map<string, Set<rhea.Sender>>();
  const attached: string[] = [];
  /** Per consumer link: its unsettled deliveries (in sending order) and their payloads. */
  const unsettled = new Map<rhea.Sender, Map<rhea.Delivery, Buffer>>();
  const queue = (name: string): Buffer[] => {
    let q = queues.get(name);
    if (!q) queues.set(name, (q = []));
    return q;
  };
  const pump = (name: string): void => {
    const q = queue(name);
    for (const s of consumers.get(name) ?? []) {
      const open = unsettled.get(s)!;
      while (q.length > 0 && s.sendable()) {
        const payload = q.shift()!;
        open.set(s.send(payload, undefined, 0), payload);
      }
    }
  };
  const settled = (ctx: rhea.EventContext, requeue: boolean): void => {
    const s = ctx.sender!;
    const open = unsettled.get(s);
    const payload = open?.get(ctx.delivery!);
    if (payload === undefined) return;
    open!.delete(ctx.delivery!);
    if (!requeue) return;
    const name = remoteAddress(s, "source");
    queue(name).unshift(payload);
    pump(name);
  };
  const dropConsumer = (s: rhea.Sender): void => {
    const name = remoteAddress(s, "source");
    consumers.get(name)?.delete(s);
    const open = unsettled.get(s);
    unsettled.delete(s);
    // rhea reports outcomes after the frames it read are handled: an outcome that came just
    // before the detach is already on the delivery but not yet reported.
    const back = [...(open ?? [])].filter(([d]) => !["accepted", "rejected"].includes(outcomeOf(d)));
    if (back.length === 0) return;
    queue(name).unshift(...back.map(([, payload]) => payload));
    pump(name);
  };
  const dropConnection = (ctx: rhea.EventContext): void => {
    for (const s of [...unsettled.keys()]) if (s.connection === ctx.connection) dropConsumer(s);
  };
  const server = await startRheaServer((c) => {
    const mechs = (
      c as unknown as {
        sasl_server_mechanisms: {
          enable_plain(f: (u: string, p: string) => boolean): void;
          enable_anonymous(): void;
        };
      }
    ).sasl_server_mechanisms;
    mechs.enable_plain((u, p) => u === "user" && p === "pass");
    mechs.enable_anonymous();
    c.on("receiver_open", (ctx: rhea.EventContext) => {
      const r = ctx.receiver!;
      attached.push(remoteAddress(r, "target"));
      r.set_target({ address: remoteAddress(r, "target") });
    });
    c.on("message", (ctx: rhea.EventContext) => {
      const name = remoteAddress(ctx.receiver!, "target");
      queue(name).push(rawPayloadOf(ctx.message)!);
      pump(name);
    });
    c.on("sender_open", (ctx: rhea.EventContext) => {
      const s = ctx.sender!;
      const name = remoteAddress(s, "source");
      attached.push(name);
      s.set_source({ address: name });
      let set = consumers.get(name);
      if (!set) consumers.set(name, (set = new Set()));
      set.add(s);
      unsettled.set(s, new Map());
      pump(name);
    });
    c.on("sendable", (ctx: rhea.EventContext) => {
      pump(remoteAddress(ctx.sender!, "source"));
    });
    c.on("accepted", (ctx: rhea.EventContext) => settled(ctx, false));
    c.on("rejected", (ctx: rhea.EventContext) => settled(ctx, false));
    c.on("released", (ctx: rhea.EventContext) => settled(ctx, true)); // also "modified" (rhea's default)
    c.on("settled", (ctx: rhea.EventContext) => settled(ctx, false)); // settled without an outcome
    c.on("sender_close", (ctx: rhea.EventContext) => dropConsumer(ctx.sender!));
    c.on("connection_close", dropConnection);
    c.on("disconnected", dropConnection);
  }, options);
  return { ...server, queues, attached };
}
