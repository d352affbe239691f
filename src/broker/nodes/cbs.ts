/**
 * The built-in `$cbs` node: put-token checks a SAS token (signature, key name, expiry, and that
 * its resource covers the audience) or hands other tokens (JWT) to the application's validator.
 * A granted token authorizes its scope on the connection it was put on, until it expires.
 */
import { AMQPDescribed, type AMQPValue } from "../../codec/values.js";
import { scopeCovers } from "../address.js";
import { parseRights, type TokenRights } from "../authorization.js";
import type { BrokerCbsOptions, NodeRequest, NodeResponse } from "../options.js";
import { isSasToken, parseSasToken, verifySasToken } from "./sas-token.js";
import { asBuffer } from "../../util/buffer-view.js";

/** What a valid token authorizes. */
export interface TokenGrant extends TokenRights {
  /** Normalized resource path ("" = the whole namespace). */
  readonly scope: string;
  /** When the grant ends (ms since the epoch; Infinity = never). */
  readonly expiresAtMs: number;
}

/** The answer to a put-token, and the grant when the token is valid. */
export interface PutTokenResult {
  readonly response: NodeResponse;
  readonly grant?: TokenGrant;
}

const SCHEME = /^[a-z][a-z0-9+.-]*:\/\//i;

/**
 * The resource path of a token audience or SAS resource: `sb://ns.host/hub/x` and `ns.host/hub/x`
 * give `hub/x`; a bare `hub/x` stays as it is.
 */
export function scopePath(resource: string): string {
  let rest = resource;
  if (SCHEME.test(rest)) {
    rest = rest.slice(rest.indexOf("://") + 3);
    const slash = rest.indexOf("/");
    rest = slash < 0 ? "" : rest.slice(slash + 1);
  } else {
    const slash = rest.indexOf("/");
    const first = slash < 0 ? rest : rest.slice(0, slash);
    if (first.includes(".") || first.includes(":")) rest = slash < 0 ? "" : rest.slice(slash + 1);
  }
  const cut = rest.search(/[?#]/);
  if (cut >= 0) rest = rest.slice(0, cut);
  return rest.replace(/^\/+/, "").replace(/\/+$/, "");
}

function tokenText(body: AMQPValue | undefined): string | undefined {
  const v = body instanceof AMQPDescribed ? body.value : body;
  if (typeof v === "string") return v;
  if (v instanceof Uint8Array) return asBuffer(v).toString("utf8");
  return undefined;
}

/** Expiry from an `expiration` application property (timestamp, or seconds since the epoch). */
function expirationOf(req: NodeRequest): number {
  const v = req.applicationProperties.get("expiration");
  if (v instanceof Date) return v.getTime();
  if (typeof v === "number") return v * 1000;
  return Infinity;
}

const unauthorized = (statusDescription: string): PutTokenResult => ({
  response: { statusCode: 401, statusDescription },
});

/**
 * Handles one `$cbs` request. `exists(scope)` tells whether an entity exists under a scope (for 404
 * when queues are not auto-created). With `verifiedOnly` (a connection confined to its tokens) a
 * token is granted only when it is verified: a SAS token needs `keys`, another one `validateJwt`.
 */
export function handleCbs(
  req: NodeRequest,
  options: BrokerCbsOptions | undefined,
  exists: (scope: string) => boolean,
  nowMs: number,
  verifiedOnly = false,
): PutTokenResult {
  if (req.operation !== "put-token") {
    return {
      response: {
        statusCode: 501,
        statusDescription: `operation '${req.operation ?? ""}' is not implemented by $cbs`,
      },
    };
  }
  const token = tokenText(req.body);
  if (token === undefined)
    return { response: { statusCode: 400, statusDescription: "the token is missing" } };
  if (req.name === undefined || req.name === "") {
    return { response: { statusCode: 400, statusDescription: "the audience ('name') is missing" } };
  }
  const audience = scopePath(req.name);
  let grant: TokenGrant;
  if (isSasToken(token)) {
    const sas = parseSasToken(token);
    if (!sas) return unauthorized("the SAS token is malformed");
    let expiresAtMs = sas.se * 1000;
    // Only a verified token's key name counts for the authorization rules.
    let keyName: string | undefined;
    if (options?.keys) {
      const verdict = verifySasToken(sas, options.keys, nowMs);
      if (!verdict.ok) return unauthorized(verdict.reason);
      expiresAtMs = verdict.expiresAtMs;
      keyName = sas.skn;
    } else if (verifiedOnly) {
      return unauthorized("SAS tokens cannot be verified: the broker has no SAS keys");
    } else if (expiresAtMs <= nowMs) {
      return unauthorized("the token has expired");
    }
    const scope = scopePath(sas.resource);
    if (!scopeCovers(scope, audience)) {
      return unauthorized(`the token for '${sas.resource}' does not cover the audience '${req.name}'`);
    }
    grant = { scope, expiresAtMs, keyName };
  } else if (options?.validateJwt) {
    const verdict = options.validateJwt(token, req.name);
    if (verdict === false) return unauthorized("the token was not accepted");
    const expiresAtMs = (verdict === true ? undefined : verdict.expiresAtMs) ?? expirationOf(req);
    if (expiresAtMs <= nowMs) return unauthorized("the token has expired");
    // A validator returning rights the broker does not know fails the request (500), as a throw does.
    const rights =
      verdict === true || verdict.rights === undefined
        ? undefined
        : parseRights(verdict.rights, "the rights cbs.validateJwt returned");
    grant = { scope: audience, expiresAtMs, rights };
  } else if (options?.keys || verifiedOnly) {
    return unauthorized(`tokens of type '${req.type ?? ""}' are not accepted`);
  } else {
    grant = { scope: audience, expiresAtMs: expirationOf(req) };
  }
  if (grant.scope !== "" && !exists(grant.scope)) {
    return {
      response: { statusCode: 404, statusDescription: `the entity '${grant.scope}' could not be found` },
    };
  }
  return { response: { statusCode: 200, statusDescription: "OK" }, grant };
}
