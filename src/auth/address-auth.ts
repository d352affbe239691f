/**
 * The auth a client connects with for an address, when the application gives none or gives one
 * without transport settings (uamqp: SASL PLAIN from the URL's credentials, else SASL ANONYMOUS; the
 * URL's scheme and port), and the auth it switches to when the peer redirects it elsewhere.
 */
import type { Address } from "../address/address.js";
import type { ConnectionRedirect, LinkRedirect } from "../errors/exceptions.js";
import {
  SASLAnonymous,
  SASLPlain,
  TransportType,
  type AMQPAuth,
  type TransportOptions,
} from "./amqp-auth.js";

/**
 * What the URL says about the transport: TLS, WebSocket, and the port only when the URL names one
 * (the scheme's default is left to the auth, which picks 443 for WebSocket and proxies).
 */
function urlTransport(address: Address): TransportOptions {
  const ep = address.endpoint();
  return {
    tls: ep.tls,
    ...(address.port !== undefined ? { port: address.port } : {}),
    ...(ep.webSocket ? { type: TransportType.AmqpOverWebsocket } : {}),
  };
}

/**
 * The auth of a client for `address` (uamqp: SASL PLAIN from the URL's credentials, else SASL
 * ANONYMOUS): `auth` with `tls`/`port`/`type` taken from the URL where its transport leaves them
 * unset, or SASL PLAIN / ANONYMOUS built from the URL.
 * @throws {InvalidAddressError} when there is no auth and the address has no host.
 */
export function resolveAuth(
  address: Address,
  auth: AMQPAuth | undefined,
  transport: TransportOptions | undefined,
): AMQPAuth {
  if (auth) {
    if (address.isNode) return auth;
    const fromUrl = urlTransport(address);
    const t = auth.transport;
    const fill: TransportOptions = {
      ...(t.tls === undefined && fromUrl.tls !== undefined ? { tls: fromUrl.tls } : {}),
      ...(t.port === undefined && address.port !== undefined ? { port: address.port } : {}),
      ...(t.type === undefined && fromUrl.type !== undefined ? { type: fromUrl.type } : {}),
    };
    if (Object.keys(fill).length === 0) return auth;
    return auth.withHost(auth.hostname, { ...t, ...fill });
  }
  const merged: TransportOptions = { ...urlTransport(address), ...transport };
  const creds = address.credentials();
  return creds
    ? new SASLPlain(address.hostname, creds.username, creds.password, merged)
    : new SASLAnonymous(address.hostname, merged);
}

/**
 * The auth to use after a redirect: `auth` when given (its port filled in from the redirect when it
 * has none), else the current credentials for the redirect's host, port and network host.
 */
export function redirectAuth(
  current: AMQPAuth,
  error: LinkRedirect | ConnectionRedirect,
  auth?: AMQPAuth,
): AMQPAuth {
  if (auth) {
    if (auth.transport.port !== undefined || error.port === undefined) return auth;
    return auth.withHost(auth.hostname, { ...auth.transport, port: error.port });
  }
  const host = error.hostname ?? error.networkHost ?? current.hostname;
  const transport: TransportOptions = { ...current.transport };
  if (error.port !== undefined) transport.port = error.port;
  if (error.networkHost !== undefined && error.networkHost !== host) {
    transport.customEndpointHostname = error.networkHost;
  } else {
    delete transport.customEndpointHostname;
  }
  return current.withHost(host, transport);
}
