/**
 * The accepting side of the SASL layer: offer mechanisms, check the client's credentials, send the
 * outcome. Credentials are handed to an application callback and never logged.
 */
import type { SaslInitFields } from "../frames/performatives.js";
import { parsePlainResponse, SaslCode } from "./mechanisms.js";

/** What the accepting side knows when it authenticates a client. */
export interface SaslAuthRequest {
  readonly mechanism: string;
  /** PLAIN: the user name. */
  readonly username?: string;
  /** PLAIN: the password. */
  readonly password?: string;
  /** The raw initial response (ANONYMOUS trace, EXTERNAL authzid, other mechanisms). */
  readonly response?: Uint8Array;
  /** The hostname field of sasl-init. */
  readonly hostname?: string;
  /** TLS client certificate (EXTERNAL). */
  readonly peerCertificate?:
    { readonly subject?: Record<string, string>; readonly fingerprint256?: string } | undefined;
}

/** Accepting-side SASL options. */
export interface SaslServerOptions {
  /**
   * Mechanisms offered, in order of preference.
   * @defaultValue `["ANONYMOUS"]`
   */
  readonly mechanisms?: readonly string[];
  /**
   * Decides whether a client is authenticated. Returns true to accept.
   * @defaultValue ANONYMOUS accepted; PLAIN checked against `users`; EXTERNAL needs a client certificate.
   */
  readonly authenticate?: (req: SaslAuthRequest) => boolean | Promise<boolean>;
  /** PLAIN users: name → password. */
  readonly users?: Readonly<Record<string, string>>;
  /**
   * Accept clients that skip SASL and send the AMQP header directly.
   * @defaultValue true when ANONYMOUS is offered, else false
   */
  readonly allowNoSasl?: boolean;
}

/** The authenticated identity, or the outcome code of a failure. */
export type SaslServerResult =
  | { readonly ok: true; readonly mechanism: string; readonly identity: string | undefined }
  | { readonly ok: false; readonly code: SaslCode };

/** Runs the default policy or the application's callback for one sasl-init. */
export async function authenticateInit(
  options: SaslServerOptions,
  init: SaslInitFields,
  peerCertificate: SaslAuthRequest["peerCertificate"],
): Promise<SaslServerResult> {
  const offered = options.mechanisms ?? ["ANONYMOUS"];
  if (!offered.includes(init.mechanism)) return { ok: false, code: SaslCode.Auth };
  let req: SaslAuthRequest = {
    mechanism: init.mechanism,
    ...(init.initialResponse !== undefined ? { response: init.initialResponse } : {}),
    ...(init.hostname !== undefined ? { hostname: init.hostname } : {}),
    peerCertificate,
  };
  let identity: string | undefined;
  if (init.mechanism === "PLAIN") {
    const creds = parsePlainResponse(init.initialResponse);
    if (!creds) return { ok: false, code: SaslCode.Auth };
    req = { ...req, username: creds.username, password: creds.password };
    identity = creds.username;
  } else if (init.mechanism === "EXTERNAL") {
    identity = peerCertificate?.subject?.["CN"];
  }
  try {
    const ok = options.authenticate ? await options.authenticate(req) : defaultAuthenticate(options, req);
    return ok ? { ok: true, mechanism: init.mechanism, identity } : { ok: false, code: SaslCode.Auth };
  } catch {
    return { ok: false, code: SaslCode.Sys };
  }
}

function defaultAuthenticate(options: SaslServerOptions, req: SaslAuthRequest): boolean {
  switch (req.mechanism) {
    case "ANONYMOUS":
      return true;
    case "PLAIN": {
      const users = options.users ?? {};
      return (
        req.username !== undefined &&
        Object.hasOwn(users, req.username) &&
        users[req.username] === req.password
      );
    }
    case "EXTERNAL":
      return req.peerCertificate?.subject !== undefined;
    default:
      return false;
  }
}
