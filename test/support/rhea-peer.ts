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

/**
 * rhea as a store-and-forward server: messages sent to an address are kept (accepted) and handed
 * byte-exact to receivers of that address as their credit allows. PLAIN user/pass is offered too.
 */
export async function startRheaQueueServer(
  options: Record<string, unknown> = {},
): Promise<RheaServer & { queues: Map<string, Buffer[]> }> {
  const queues = new Map<string, Buffer[]>();
  const consumers = new Map<string, Set<rhea.Sender>>();
  const queue = (name: string): Buffer[] => {
    let q = queues.get(name);
    if (!q) queues.set(name, (q = []));
    return q;
  };
  const pump = (name: string): void => {
    const q = queue(name);
    for (const s of consumers.get(name) ?? []) {
      while (q.length > 0 && s.sendable()) s.send(q.shift()!, undefined, 0);
    }
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
      s.set_source({ address: name });
      let set = consumers.get(name);
      if (!set) consumers.set(name, (set = new Set()));
      set.add(s);
      pump(name);
    });
    c.on("sendable", (ctx: rhea.EventContext) => {
      pump(remoteAddress(ctx.sender!, "source"));
    });
    c.on("sender_close", (ctx: rhea.EventContext) => {
      consumers.get(remoteAddress(ctx.sender!, "source"))?.delete(ctx.sender!);
    });
  }, options);
  return { ...server, queues };
}
