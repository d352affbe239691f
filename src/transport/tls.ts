/**
 * TLS transports (node:tls): `connectTls` and `listenTls`.
 */
import { isIP } from "node:net";
import {
  checkServerIdentity,
  connect,
  createServer,
  type ConnectionOptions,
  type TlsOptions,
} from "node:tls";
import { formatHostPort } from "./address.js";
import { ConnectionTracker, listen, transportServer } from "./server.js";
import { SocketTransport } from "./socket-transport.js";
import { connectSocket } from "./tcp.js";
import type { ConnectOptions, OnTransport, Transport, TransportServer } from "./transport.js";

/** TLS settings of the connecting side (shared by `connectTls` and `connectWebSocket` over wss). */
export interface TlsClientOptions {
  /**
   * Server name for SNI and for the certificate hostname check.
   * @defaultValue the host (no SNI is sent for IP literals)
   */
  servername?: string | undefined;
  /**
   * Trusted CA certificates (PEM). Replaces Node's bundled Mozilla CAs.
   * @defaultValue Node's bundled CAs
   */
  ca?: ConnectionOptions["ca"];
  /** Client certificate chain (PEM), for mutual TLS / SASL EXTERNAL. */
  cert?: ConnectionOptions["cert"];
  /** Private key of the client certificate (PEM). */
  key?: ConnectionOptions["key"];
  /** Passphrase of `key`. */
  passphrase?: string | undefined;
  /**
   * Verify the server certificate chain and hostname. Turning this off is insecure.
   * @defaultValue true
   */
  rejectUnauthorized?: boolean | undefined;
  /** Any other `tls.connect` option (minVersion, ciphers, checkServerIdentity…); explicit options win. */
  tlsOptions?: ConnectionOptions | undefined;
}

/** Options of {@link connectTls}. */
export interface TlsConnectOptions extends ConnectOptions, TlsClientOptions {
  /** Host name or IP address. */
  host: string;
  /** Port, e.g. 5671. */
  port: number;
  /**
   * Enables TCP keep-alive with this initial delay.
   * @defaultValue keep-alive off
   */
  keepAliveInitialDelayMs?: number | undefined;
}

/**
 * @internal The `tls.connect` options for `host`: SNI (not for IP literals), verification on by
 * default, the hostname checked against `servername ?? host`.
 */
export function tlsConnectionOptions(host: string, options: TlsClientOptions): ConnectionOptions {
  const result: ConnectionOptions = { ...options.tlsOptions, host };
  const servername = options.servername ?? options.tlsOptions?.servername ?? host;
  if (isIP(servername) === 0) result.servername = servername;
  else delete result.servername;
  if (
    servername !== host &&
    isIP(servername) !== 0 &&
    options.tlsOptions?.checkServerIdentity === undefined
  ) {
    // No SNI for an IP literal, but the certificate must still match the name the caller asked for
    // (Node would check `host` otherwise).
    result.checkServerIdentity = (_hostname, cert) => checkServerIdentity(servername, cert);
  }
  if (options.ca !== undefined) result.ca = options.ca;
  if (options.cert !== undefined) result.cert = options.cert;
  if (options.key !== undefined) result.key = options.key;
  if (options.passphrase !== undefined) result.passphrase = options.passphrase;
  result.rejectUnauthorized = options.rejectUnauthorized ?? options.tlsOptions?.rejectUnauthorized ?? true;
  return result;
}

/**
 * Opens a TLS connection (TLS from the first byte, as on port 5671).
 *
 * @throws {TlsError} untrusted certificate or hostname mismatch (not retryable)
 * @throws {ConnectFailedError} refused, unreachable, DNS failure (retryable)
 * @throws {ConnectTimeoutError} `timeoutMs` elapsed, including the handshake (retryable)
 * @throws {AMQPAbortError} `signal` aborted (from src/errors)
 * @example
 * ```ts
 * const transport = await connectTls({ host: "myns.servicebus.windows.net", port: 5671, timeoutMs: 10_000 });
 * transport.encrypted; // true
 * ```
 */
export function connectTls(options: TlsConnectOptions): Promise<Transport> {
  const { host, port, keepAliveInitialDelayMs } = options;
  const description = `tls ${formatHostPort(host, port)}`;
  const tlsOptions = tlsConnectionOptions(host, options);
  return connectSocket(
    options,
    description,
    () => {
      const socket = connect({ ...tlsOptions, port });
      socket.setNoDelay(true);
      if (keepAliveInitialDelayMs !== undefined) socket.setKeepAlive(true, keepAliveInitialDelayMs);
      return socket;
    },
    "secureConnect",
    (socket) => new SocketTransport(socket, description),
  );
}

/** TLS settings of the accepting side. */
export interface TlsServerOptions {
  /** Server certificate chain (PEM). */
  cert: TlsOptions["cert"];
  /** Private key (PEM). */
  key: TlsOptions["key"];
  /** CAs trusted for client certificates. */
  ca?: TlsOptions["ca"];
  /** Passphrase of `key`. */
  passphrase?: string | undefined;
  /**
   * Ask clients for a certificate (mutual TLS; the verified certificate is `peerCertificate`).
   * @defaultValue false
   */
  requestCert?: boolean | undefined;
  /**
   * With `requestCert`, refuse clients without a certificate signed by `ca`.
   * @defaultValue true
   */
  rejectUnauthorized?: boolean | undefined;
  /** Any other `tls.createServer` option; explicit options win. */
  tlsOptions?: TlsOptions | undefined;
}

/** Options of {@link listenTls}. */
export interface TlsListenOptions extends TlsServerOptions {
  /** @defaultValue "127.0.0.1" */
  host?: string | undefined;
  /** @defaultValue 0 (any free port) */
  port?: number | undefined;
  /**
   * TCP keep-alive on accepted sockets: the first probe after this many milliseconds without
   * traffic (0: off).
   * @defaultValue keep-alive off
   */
  keepAliveInitialDelayMs?: number | undefined;
}

/** @internal `tls.createServer` options from {@link TlsServerOptions}. */
export function tlsServerOptions(options: TlsServerOptions): TlsOptions {
  const result: TlsOptions = { ...options.tlsOptions, cert: options.cert, key: options.key };
  if (options.ca !== undefined) result.ca = options.ca;
  if (options.passphrase !== undefined) result.passphrase = options.passphrase;
  result.requestCert = options.requestCert ?? options.tlsOptions?.requestCert ?? false;
  result.rejectUnauthorized = options.rejectUnauthorized ?? options.tlsOptions?.rejectUnauthorized ?? true;
  return result;
}

/**
 * Accepts TLS connections; each becomes a {@link Transport} (after the handshake) handed to
 * `onTransport`. Failed handshakes are dropped silently.
 *
 * @example
 * ```ts
 * const server = await listenTls({ cert, key, ca, requestCert: true }, (transport) => {
 *   console.log(transport.peerCertificate?.subject?.CN);
 * });
 * ```
 */
export async function listenTls(
  options: TlsListenOptions,
  onTransport: OnTransport,
): Promise<TransportServer> {
  const host = options.host ?? "127.0.0.1";
  const tracker = new ConnectionTracker(options.keepAliveInitialDelayMs);
  const server = createServer(tlsServerOptions(options), (socket) => {
    socket.setNoDelay(true);
    const description = `tls from ${formatHostPort(socket.remoteAddress, socket.remotePort)}`;
    tracker.adopt(new SocketTransport(socket, description), onTransport);
  });
  // A failed or timed-out handshake (`tlsOptions.handshakeTimeout`) is reported here; Node leaves
  // the socket open after a time-out, so it is closed here.
  server.on("tlsClientError", (_error, socket) => {
    socket.destroy();
  });
  tracker.watch(server);
  const address = await listen(server, host, options.port ?? 0, "tls");
  return transportServer(server, address, tracker);
}
