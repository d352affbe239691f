/**
 * A minimal in-process HTTP CONNECT proxy for tests, with optional Basic authentication.
 */
import { connect, createServer, type Socket } from "node:net";

export interface TestProxy {
  readonly port: number;
  /** The request targets received (`host:port`). */
  readonly targets: string[];
  /** The Proxy-Authorization headers received (undefined when absent). */
  readonly authorizations: (string | undefined)[];
  close(): Promise<void>;
}

export async function startConnectProxy(credentials?: {
  username: string;
  password: string;
}): Promise<TestProxy> {
  const sockets = new Set<Socket>();
  const targets: string[] = [];
  const authorizations: (string | undefined)[] = [];
  const expected =
    credentials === undefined
      ? undefined
      : `Basic ${Buffer.from(`${credentials.username}:${credentials.password}`).toString("base64")}`;
  const track = (s: Socket): void => {
    sockets.add(s);
    s.on("error", () => undefined);
    s.on("close", () => sockets.delete(s));
  };

  const server = createServer((client) => {
    track(client);
    let head = Buffer.alloc(0);
    const onData = (chunk: Buffer): void => {
      head = Buffer.concat([head, chunk]);
      const end = head.indexOf("\r\n\r\n");
      if (end < 0) return;
      client.off("data", onData);
      client.pause();
      const rest = head.subarray(end + 4);
      const lines = head.subarray(0, end).toString("latin1").split("\r\n");
      const [method, target] = (lines[0] ?? "").split(" ");
      const headers = new Map<string, string>();
      for (const line of lines.slice(1)) {
        const i = line.indexOf(":");
        if (i > 0) headers.set(line.slice(0, i).trim().toLowerCase(), line.slice(i + 1).trim());
      }
      if (method !== "CONNECT" || target === undefined) {
        client.end("HTTP/1.1 405 Method Not Allowed\r\nContent-Length: 0\r\n\r\n");
        return;
      }
      targets.push(target);
      const authorization = headers.get("proxy-authorization");
      authorizations.push(authorization);
      if (expected !== undefined && authorization !== expected) {
        client.end(
          'HTTP/1.1 407 Proxy Authentication Required\r\nProxy-Authenticate: Basic realm="test"\r\nContent-Length: 0\r\n\r\n',
        );
        return;
      }
      const colon = target.lastIndexOf(":");
      const host = target.slice(0, colon).replace(/^\[|\]$/g, "");
      const port = Number(target.slice(colon + 1));
      const upstream = connect({ host, port });
      track(upstream);
      upstream.once("error", () => {
        client.end("HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\n\r\n");
      });
      upstream.once("connect", () => {
        client.write("HTTP/1.1 200 Connection Established\r\n\r\n");
        if (rest.length > 0) upstream.write(rest);
        client.pipe(upstream);
        upstream.pipe(client);
        client.resume();
      });
    };
    client.on("data", onData);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    port: (server.address() as { port: number }).port,
    targets,
    authorizations,
    async close() {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
