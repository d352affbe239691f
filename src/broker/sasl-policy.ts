/**
 * The broker's SASL policy for one accepted transport: PLAIN and ANONYMOUS, plus EXTERNAL first on
 * TLS connections when client certificates are requested.
 */
import type { SaslServerOptions } from "../sasl/sasl-server.js";
import type { Transport } from "../transport/transport.js";
import type { BrokerOptions } from "./options.js";

/** The engine's `saslServer` options for a connection over `transport` (undefined: no SASL layer). */
export function saslPolicy(options: BrokerOptions, transport: Transport): SaslServerOptions | undefined {
  const s = options.sasl;
  if (s === false) return undefined;
  const external = transport.encrypted && options.tls?.requestCert === true;
  const users = s?.users;
  return {
    mechanisms: s?.mechanisms ?? [...(external ? ["EXTERNAL"] : []), "PLAIN", "ANONYMOUS"],
    ...(s?.allowNoSasl !== undefined ? { allowNoSasl: s.allowNoSasl } : {}),
    authenticate: (req) => {
      switch (req.mechanism) {
        case "ANONYMOUS":
          return true;
        case "PLAIN":
          // Without a user list any name and password is accepted (tests inspect the identity).
          return (
            users === undefined ||
            (req.username !== undefined &&
              Object.hasOwn(users, req.username) &&
              users[req.username] === req.password)
          );
        case "EXTERNAL":
          return req.peerCertificate?.subject !== undefined;
        default:
          return false;
      }
    },
  };
}
