/**
 * HTTP CONNECT tunnelling (RFC 9110 §9.3.6): a TCP connection to a proxy that, after
 * `CONNECT host:port`, relays raw bytes to the target. Used by `connectWebSocket` when `proxy` is set.
 */
import { connect, type Socket } from "node:net";
import { formatHostPort } from "./address.js";
import { guardConnect } from "./connect-guard.js";
import { ProxyError, systemCodeOf } from "./errors.js";
import type { ConnectOptions } from "./transport.js";

/** An HTTP proxy (uamqp's `http_proxy` dict: `proxy_hostname`, `proxy_port`, `username`, `password`). */
export interface HttpProxyOptions {
  /** Proxy host name or IP address. */
  host: string;
  /** Proxy port. */
  port: number;
  /** User name for Basic proxy authentication. */
  username?: string | undefined;
  /** Password for Basic proxy authentication. Never appears in errors or descriptions. */
  password?: string | undefined;
}

/** Options of {@link connectHttpProxy}. */
export interface HttpProxyConnectOptions extends ConnectOptions {
  /** The proxy to go through. */
  proxy: HttpProxyOptions;
  /** The host the tunnel leads to. */
  host: string;
  /** The port the tunnel leads to. */
  port: number;
}

/** The largest proxy response header accepted. */
const MAX_RESPONSE_HEADER_BYTES = 16 * 1024;
const HEADER_END = Buffer.from("\r\n\r\n", "latin1");
const STATUS_LINE = /^HTTP\/1\.[01] (\d{3})(?: .*)?$/;

/** @internal Statuses after which trying again later can succeed. */
function retryableStatus(status: number): boolean {
  return status === 429 || status === 502 || status === 503 || status === 504;
}

/** @internal The `Proxy-Authorization` value, when credentials are given. */
export function proxyAuthorization(proxy: HttpProxyOptions): string | undefined {
  if (proxy.username === undefined && proxy.password === undefined) return undefined;
  const token = Buffer.from(`${proxy.username ?? ""}:${proxy.password ?? ""}`, "utf8").toString("base64");
  return `Basic ${token}`;
}

/** A printable, bounded copy of a line received from the network. */
function printable(line: string): string {
  const clean = line.replace(/[^\x20-\x7e]/g, "?");
  return clean.length > 200 ? `${clean.slice(0, 200)}…` : clean;
}

/**
 * @internal Opens a tunnel through `proxy` to `host:port`. `done` is called once with the connected
 * socket (in paused state, nothing read past the response) or a {@link ProxyError}. Returns a
 * function that cancels the attempt.
 */
export function startProxyTunnel(
  proxy: HttpProxyOptions,
  host: string,
  port: number,
  done: (error: Error | undefined, socket?: Socket) => void,
): () => void {
  const proxyWhere = `proxy ${formatHostPort(proxy.host, proxy.port)}`;
  const target = formatHostPort(host, port);
  const socket = connect({ host: proxy.host, port: proxy.port, noDelay: true });
  let finished = false;
  const chunks: Buffer[] = [];
  let size = 0;

  const detach = (): void => {
    socket.off("readable", onReadable);
    socket.off("close", onClose);
    socket.off("end", onClose);
  };
  const fail = (error: Error): void => {
    if (finished) return;
    finished = true;
    detach();
    socket.destroy();
    done(error);
  };
  const onError = (error: Error): void => {
    fail(
      new ProxyError(`cannot tunnel through ${proxyWhere}: ${error.message}`, {
        cause: error,
        systemCode: systemCodeOf(error),
        retryable: true,
      }),
    );
  };
  const onClose = (): void => {
    fail(new ProxyError(`${proxyWhere} closed the connection before answering CONNECT`, { retryable: true }));
  };
  const onResponse = (head: Buffer, rest: Buffer): void => {
    const statusLine = head.toString("latin1", 0, Math.max(0, head.indexOf("\r\n")));
    const match = STATUS_LINE.exec(statusLine);
    if (match === null) {
      fail(new ProxyError(`${proxyWhere} sent an invalid response: ${printable(statusLine)}`));
      return;
    }
    const status = Number(match[1]);
    if (status < 200 || status > 299) {
      fail(
        new ProxyError(`${proxyWhere} refused CONNECT ${target}: ${printable(statusLine)}`, {
          statusCode: status,
          retryable: retryableStatus(status),
        }),
      );
      return;
    }
    if (rest.length > 0) {
      fail(new ProxyError(`${proxyWhere} sent data after its CONNECT response`, { statusCode: status }));
      return;
    }
    finished = true;
    detach();
    socket.off("error", onError);
    done(undefined, socket);
  };
  const onReadable = (): void => {
    let chunk: Buffer | null;
    while (!finished && (chunk = socket.read() as Buffer | null) !== null) {
      chunks.push(chunk);
      size += chunk.length;
      const received = chunks.length === 1 ? chunk : Buffer.concat(chunks, size);
      const end = received.indexOf(HEADER_END);
      if (end >= 0) {
        onResponse(received.subarray(0, end + 2), received.subarray(end + HEADER_END.length));
        return;
      }
      if (size > MAX_RESPONSE_HEADER_BYTES) {
        fail(
          new ProxyError(
            `${proxyWhere} sent a response header larger than ${MAX_RESPONSE_HEADER_BYTES} bytes`,
          ),
        );
        return;
      }
    }
  };

  socket.on("error", onError);
  socket.on("close", onClose);
  socket.on("end", onClose);
  socket.on("readable", onReadable);
  socket.once("connect", () => {
    const lines = [`CONNECT ${target} HTTP/1.1`, `Host: ${target}`];
    const authorization = proxyAuthorization(proxy);
    if (authorization !== undefined) lines.push(`Proxy-Authorization: ${authorization}`);
    socket.write(`${lines.join("\r\n")}\r\n\r\n`, "latin1");
  });
  return () => {
    if (finished) return;
    finished = true;
    detach();
    socket.destroy();
  };
}

/**
 * Opens a raw TCP tunnel to `host:port` through an HTTP CONNECT proxy, with Basic authentication
 * when credentials are given. The socket is ready for `tls.connect({ socket })` or an HTTP client.
 *
 * @throws {ProxyError} the proxy is unreachable, answers with a non-2xx status (status line in the
 *   message, `statusCode` set; 502/503/504/429 are retryable) or sends garbage
 * @throws {ConnectTimeoutError} `timeoutMs` elapsed
 * @throws {AMQPAbortError} `signal` aborted (from src/errors)
 * @example
 * ```ts
 * const socket = await connectHttpProxy({
 *   proxy: { host: "proxy.local", port: 3128, username: "u", password: "p" },
 *   host: "myns.servicebus.windows.net",
 *   port: 443,
 * });
 * ```
 */
export function connectHttpProxy(options: HttpProxyConnectOptions): Promise<Socket> {
  const description = `${formatHostPort(options.host, options.port)} via proxy ${formatHostPort(options.proxy.host, options.proxy.port)}`;
  return guardConnect<Socket>(options, description, (settle) =>
    startProxyTunnel(options.proxy, options.host, options.port, (error, socket) => {
      if (error !== undefined) settle.reject(error);
      else if (!settle.resolve(socket!)) socket!.destroy();
    }),
  );
}
