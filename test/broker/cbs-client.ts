/**
 * rhea as a `$cbs` / `$management` client of the embedded broker in tests: SAS tokens signed the way
 * Azure's clients sign them, and one request/response exchange on a request node.
 */
import assert from "node:assert/strict";
import type rhea from "rhea";
import { sasSignature } from "../../src/broker/index.js";
import { collect, openReceiver, openSender, sendAll } from "./rhea-client.js";

/** A SAS token for `resource` (signed over the URL-encoded resource and the expiry). */
export function sasToken(resource: string, expiresAtSec: number, key: string, keyName: string): string {
  const sr = encodeURIComponent(resource);
  const sig = encodeURIComponent(sasSignature(sr, expiresAtSec, key));
  return `SharedAccessSignature sr=${sr}&sig=${sig}&se=${expiresAtSec}&skn=${encodeURIComponent(keyName)}`;
}

/** Seconds since the epoch, an hour from now (a SAS token's `se`). */
export const inAnHour = (): number => Math.floor(Date.now() / 1000) + 3600;

let nextId = 0;

/**
 * Sends one request to `node` (with a reply-to naming a fresh receiver of the node) and returns the
 * response, after checking that its correlation-id is the request's message-id.
 */
export async function nodeRequest(
  c: rhea.Connection,
  node: "$cbs" | "$management",
  applicationProperties: Record<string, string>,
  body: unknown = null,
): Promise<rhea.Message> {
  const id = ++nextId;
  const replyTo = `${node.slice(1)}-client-${id}`;
  const replies = await openReceiver(c, { source: node, target: replyTo });
  const requests = await openSender(c, node);
  const got = collect(replies, 1);
  await sendAll(requests, [
    { message_id: id, reply_to: replyTo, application_properties: applicationProperties, body },
  ]);
  const res = (await got)[0]!.message!;
  assert.equal(res.correlation_id, id);
  replies.close();
  requests.close();
  return res;
}

/** Puts a token on `$cbs`; returns the response's status code and description. */
export async function putToken(
  c: rhea.Connection,
  token: string,
  audience: string,
  type = "servicebus.windows.net:sastoken",
): Promise<{ code: unknown; description: unknown }> {
  const res = await nodeRequest(c, "$cbs", { operation: "put-token", type, name: audience }, token);
  return {
    code: res.application_properties?.["status-code"],
    description: res.application_properties?.["status-description"],
  };
}
