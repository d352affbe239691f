/**
 * The Azure path against the embedded broker: a broker whose `$cbs` checks SAS tokens (`cbs.keys`)
 * and guards addresses, and readers of what it saw (put-tokens, management requests, attaches).
 */
import { after } from "node:test";
import type { BrokerEvent, BrokerOptions, NodeRequest, NodeResponse } from "../../src/broker/index.js";
import { SASTokenAuth, type SharedAccessKeyOptions } from "../../src/auth/cbs-auth.js";
import { Message } from "../../src/message/message.js";
import { startBroker, type TestBroker } from "../client/support.js";

export { recordStatus, until } from "../client/support.js";

export const KEY_NAME = "RootManageSharedAccessKey";
/** A key with `+`, `/` and `=` (kept as written, used as its UTF-8 bytes). */
export const KEY = "k3y+with/slash=and+plus==";
/** The guarded entity. */
export const HUB = "hub";

type Timed<T extends BrokerEvent["type"]> = Extract<BrokerEvent, { type: T }> & { readonly at: number };

/** A CBS broker plus readers of its events. */
export interface CbsBroker extends TestBroker {
  /** The `sb://` URI (the token audience) of `entity` on this broker. */
  uri(entity?: string): string;
  /** A SAS auth from the shared access key for `entity` (plain TCP to the broker). */
  sasAuth(entity?: string, options?: SharedAccessKeyOptions): SASTokenAuth;
  /** Requests the broker received on `node` (`$cbs`, `$management`), in order. */
  requests(node: string, connectionId?: number): Timed<"request">[];
  /** The connection ids that opened, with their SASL mechanism. */
  opens(): Timed<"connection-open">[];
  /** The messages a client sent to `node` (raw payload), decoded. */
  sentTo(node: string): Message[];
}

/** Starts a broker with SAS keys, `hub` (and anything under it) guarded, and the given options. */
export async function startCbsBroker(options: BrokerOptions = {}): Promise<CbsBroker> {
  const t = await startBroker({
    cbs: { keys: { [KEY_NAME]: KEY }, guardedAddresses: [HUB] },
    ...options,
  });
  const uri = (entity = HUB): string => `sb://127.0.0.1/${entity}`;
  return {
    ...t,
    uri,
    sasAuth: (entity = HUB, o: SharedAccessKeyOptions = {}) =>
      SASTokenAuth.fromSharedAccessKey(uri(entity), KEY_NAME, KEY, {
        tls: false,
        port: t.broker.port!,
        ...o,
      }),
    requests: (node, connectionId) =>
      t.events.filter(
        (e): e is Timed<"request"> =>
          e.type === "request" &&
          e.request.node === node &&
          (connectionId === undefined || e.connectionId === connectionId),
      ),
    opens: () => t.events.filter((e): e is Timed<"connection-open"> => e.type === "connection-open"),
    sentTo: (node) =>
      t.events
        .filter((e): e is Timed<"message"> => e.type === "message" && e.address === node)
        .map((e) => Message.decode(e.payload)),
  };
}

/**
 * An `onRequest` hook for `$cbs` that answers the put-tokens for which `decide(n, request)` (n
 * counts them from 1) returns a response, and lets the broker's own `$cbs` answer the others.
 */
export function putTokenHook(
  decide: (n: number, request: NodeRequest) => NodeResponse | "ignore" | undefined,
): (request: NodeRequest) => NodeResponse | "ignore" | undefined {
  let n = 0;
  return (request) => (request.operation === "put-token" ? decide(++n, request) : undefined);
}

/** What a suite starts and must stop: its brokers, and the clients and connections it made. */
export interface SuiteResources {
  /** Starts a CBS broker (see {@link startCbsBroker}), closed after the suite. */
  readonly broker: (options?: BrokerOptions) => Promise<CbsBroker>;
  /** Closes `c` after the suite (before the brokers); returns it. */
  readonly keep: <T extends { close(): Promise<void> }>(c: T) => T;
}

/** Call inside a `describe`: what the suite starts is closed after it, clients first. */
export function suiteResources(): SuiteResources {
  const brokers: CbsBroker[] = [];
  const closing: { close(): Promise<void> }[] = [];
  after(async () => {
    for (const c of closing) await c.close();
    for (const b of brokers) await b.broker.close();
  });
  return {
    broker: async (options) => {
      const b = await startCbsBroker(options);
      brokers.push(b);
      return b;
    },
    keep: (c) => {
      closing.push(c);
      return c;
    },
  };
}
