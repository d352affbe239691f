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
