/**
 * Extracts the verified peer certificate of a TLS socket.
 */
import type { TLSSocket } from "node:tls";
import type { PeerCertificate } from "./transport.js";

/** @internal The subject and fingerprint of the peer certificate, when presented and verified. */
export function verifiedPeerCertificate(socket: TLSSocket): PeerCertificate | undefined {
  if (!socket.authorized) return undefined;
  const cert = socket.getPeerCertificate();
  // Node returns an empty object when the peer sent no certificate.
  if (Object.keys(cert).length === 0) return undefined;
  const subject: Record<string, string> = {};
  for (const [key, value] of Object.entries((cert.subject as Record<string, unknown> | undefined) ?? {})) {
    if (typeof value === "string") subject[key] = value;
    else if (Array.isArray(value)) subject[key] = value.map(String).join(", ");
  }
  return { subject, fingerprint256: cert.fingerprint256 };
}
