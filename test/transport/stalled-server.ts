/**
 * A TCP server that accepts connections and never says anything: a TLS or WebSocket client
 * connecting to it waits forever for the handshake (used for timeout and abort tests).
 */
import { createServer, type Server, type Socket } from "node:net";
import { within } from "./helpers.js";

export interface StalledServer {
  readonly port: number;
  /** Resolves with the first accepted socket (bounded wait). */
  waitAccepted(): Promise<Socket>;
  /** Resolves when the first accepted socket was closed by the client (bounded wait). */
  waitPeerClosed(): Promise<void>;
  close(): Promise<void>;
}

export async function stalledServer(): Promise<StalledServer> {
  const sockets = new Set<Socket>();
  let resolveAccepted!: (s: Socket) => void;
  const accepted = new Promise<Socket>((resolve) => (resolveAccepted = resolve));
  const server: Server = createServer((socket) => {
    sockets.add(socket);
    socket.on("error", () => undefined);
    socket.resume(); // read (and drop) what the client sends, so its FIN is seen
    socket.on("close", () => sockets.delete(socket));
    resolveAccepted(socket);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as { port: number }).port;
  const peerClosed = accepted.then(
    (socket) =>
      new Promise<void>((resolve) => {
        if (socket.destroyed) resolve();
        else socket.once("close", () => resolve());
      }),
  );
  return {
    port,
    waitAccepted: () => within(accepted, "a connection to the stalled server"),
    waitPeerClosed: () => within(peerClosed, "the client to close its socket"),
    async close() {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
