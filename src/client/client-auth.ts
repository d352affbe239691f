/**
 * The auth a client uses when the application gives none (uamqp: SASL PLAIN from the URL's
 * credentials, else SASL ANONYMOUS), with the transport the URL's scheme and port describe.
 * @internal
 */
import type { Address } from "../address/index.js";
import {
  SASLAnonymous,
  SASLPlain,
  TransportType,
  type AMQPAuth,
  type TransportOptions,
} from "../auth/amqp-auth.js";

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
 * The auth for `address`: `auth` (with `tls`/`port`/`type` taken from the URL where its transport
 * leaves them unset), or SASL PLAIN / ANONYMOUS built from the URL.
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
