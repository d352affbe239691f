/**
 * A minimal AMQP server on our engine's accepting side, for engine tests: every address is a
 * FIFO of payloads; producers' messages are stored (accepted), consumers get them as credit allows.
 */
import { AmqpConnection } from "../../src/engine/connection.js";
import type { ConnectionOptions } from "../../src/engine/options.js";
import type { SenderLink } from "../../src/engine/sender-link.js";
import { listenTcp } from "../../src/transport/tcp.js";
import type { Transport, TransportServer } from "../../src/transport/transport.js";

export interface EngineServer {
  port: number;
  queues: Map<string, Buffer[]>;
  connections: AmqpConnection[];
  close(): Promise<void>;
}

export async function startEngineServer(
  options: ConnectionOptions = {},
  listen: (onTransport: (t: Transport) => void) => Promise<TransportServer> = (on) =>
    listenTcp({ host: "127.0.0.1", port: 0 }, on),
): Promise<EngineServer> {
  const queues = new Map<string, Buffer[]>();
  const consumers = new Map<string, Set<SenderLink>>();
  const connections: AmqpConnection[] = [];
  const queue = (name: string): Buffer[] => {
    let q = queues.get(name);
    if (!q) queues.set(name, (q = []));
    return q;
  };
  const pump = (name: string): void => {
    const q = queue(name);
    for (const link of consumers.get(name) ?? []) {
      while (q.length > 0 && link.linkCredit > link.queued && link.isAttached) {
        const payload = q.shift()!;
        link.send(payload).catch(() => q.unshift(payload));
      }
    }
  };
  const server: TransportServer = await listen((transport) => {
    const conn = new AmqpConnection({
      role: "server",
      containerId: "engine-server",
      saslServer: { mechanisms: ["ANONYMOUS", "PLAIN"], users: { user: "pass" } },
      ...options,
    });
    connections.push(conn);
    conn.onRemoteBegin = (session) => {
      session.onRemoteAttach = (attach) => {
        if (!attach.role) {
          const target = attach.target?.type === "target" ? attach.target : undefined;
          const name = typeof target?.address === "string" ? target.address : "";
          const link = session.acceptLink(attach, {
            target: { address: name },
            ...(attach.source ? { source: attach.source } : {}),
            autoCredit: 500,
          });
          if ("onDelivery" in link) {
            link.onDelivery = (d) => {
              queue(name).push(Buffer.from(d.payload));
              if (!d.settled) link.settle(d, { type: "accepted" });
              pump(name);
            };
          }
        } else {
          const name = typeof attach.source?.address === "string" ? attach.source.address : "";
          const link = session.acceptLink(attach, {
            source: { address: name },
            ...(attach.target?.type === "target" ? { target: attach.target } : {}),
          });
          if ("onCredit" in link) {
            let set = consumers.get(name);
            if (!set) consumers.set(name, (set = new Set()));
            set.add(link);
            link.onCredit = () => {
              pump(name);
            };
            link.onDetach = () => set.delete(link);
            pump(name);
          }
        }
      };
    };
    conn.start(transport);
  });
  return {
    port: server.port,
    queues,
    connections,
    async close() {
      await Promise.all(connections.map((c) => c.close()));
      await server.close();
    },
  };
}
