/**
 * Authorization: which rights (`send`, `listen`, `manage`) a client holds on which addresses, by the
 * `authorization` rules (docs/broker.md, "Authorization"). The rules are checked once, when the
 * broker starts; `check` answers for one right on one address, and `requestRights` says which right
 * a management request needs. The connection says who asks (its login, the tokens put on it); this
 * module says what they may do.
 */
import { normalizeAddress } from "./address.js";
import { BrokerError } from "./errors.js";
import { EVENTHUB_TYPE, PARTITION_TYPE } from "./eventhubs/management.js";
import type { BrokerOptions, BrokerRight, NodeRequest } from "./options.js";
import { isEntityManagementNode } from "./servicebus/management.js";

/** Every right, in the order descriptions list them. */
export const RIGHTS: readonly BrokerRight[] = ["send", "listen", "manage"];

/** What a token put on `$cbs` stands for, as the rules see it. */
export interface TokenRights {
  /** A verified SAS token's key name (`skn`). */
  readonly keyName?: string | undefined;
  /** The rights `cbs.validateJwt` read in a JWT. */
  readonly rights?: readonly BrokerRight[] | undefined;
}

/** Who asks for a right on an address. */
export interface Requester {
  /**
   * The login, where it counts: the client's name (PLAIN user, EXTERNAL certificate CN), undefined
   * for an anonymous client. Absent where only tokens count (a guarded address, a connection
   * confined to its tokens).
   */
  readonly login?: { readonly user: string | undefined };
  /** The live tokens whose audience covers the address. */
  readonly tokens: readonly TokenRights[];
}

type Who =
  | { readonly kind: "user"; readonly name: string }
  | { readonly kind: "keyName"; readonly name: string }
  | { readonly kind: "anonymous" };

type Pattern =
  | { readonly kind: "all" }
  | { readonly kind: "name"; readonly name: string }
  | { readonly kind: "prefix"; readonly prefix: string };

interface Rule {
  readonly who: Who;
  readonly rights: ReadonlySet<BrokerRight>;
  readonly patterns: readonly Pattern[];
}

const RULE_KEYS: readonly string[] = ["user", "keyName", "anonymous", "rights", "addresses"];

/** Wildcard of `user` and `keyName`: every name. */
const ANY = "*";

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/**
 * The rights of a rule or of a JWT, lower-cased (Service Bus writes `Send`, `Listen`, `Manage`).
 * @throws {BrokerError} not a non-empty list of `send`, `listen`, `manage`; the message names `where`.
 */
export function parseRights(value: unknown, where: string): BrokerRight[] {
  if (!Array.isArray(value) || value.length === 0) {
    throw new BrokerError(`${where} must be a non-empty list of ${RIGHTS.join(", ")}`);
  }
  const out: BrokerRight[] = [];
  for (const v of value as unknown[]) {
    const right = typeof v === "string" ? RIGHTS.find((r) => r === v.toLowerCase()) : undefined;
    if (right === undefined) {
      throw new BrokerError(`${where} holds ${JSON.stringify(v)}: the rights are ${RIGHTS.join(", ")}`);
    }
    if (!out.includes(right)) out.push(right);
  }
  return out;
}

function parsePattern(value: unknown, where: string, resolve: (address: string) => string): Pattern {
  if (typeof value !== "string" || value === "") throw new BrokerError(`${where} must be a non-empty string`);
  if (value === ANY) return { kind: "all" };
  const star = value.indexOf("*");
  if (star >= 0 && star !== value.length - 1) {
    throw new BrokerError(
      `${where} is ${JSON.stringify(value)}: '*' may only end an address (a prefix), or stand alone`,
    );
  }
  if (star >= 0) {
    const prefix = normalizeAddress(value.slice(0, -1));
    return prefix === "" ? { kind: "all" } : { kind: "prefix", prefix };
  }
  const name = resolve(value);
  if (name === "") throw new BrokerError(`${where} is ${JSON.stringify(value)}, which names no address`);
  return { kind: "name", name };
}

function parseWho(rule: Record<string, unknown>, where: string): Who {
  const given = ["user", "keyName", "anonymous"].filter((k) => rule[k] !== undefined);
  if (given.length !== 1) {
    throw new BrokerError(
      `${where} must name exactly one of user, keyName or anonymous (${given.length === 0 ? "it names none" : `it names ${given.join(" and ")}`})`,
    );
  }
  if (rule["anonymous"] !== undefined) {
    if (rule["anonymous"] !== true) throw new BrokerError(`${where}.anonymous must be true`);
    return { kind: "anonymous" };
  }
  const kind = given[0] === "user" ? "user" : "keyName";
  const name = rule[kind];
  if (typeof name !== "string" || name === "") {
    throw new BrokerError(`${where}.${kind} must be a non-empty string`);
  }
  return { kind, name };
}

function parseRule(value: unknown, where: string, resolve: (address: string) => string): Rule {
  if (!isRecord(value)) throw new BrokerError(`${where} must be an object (a rule)`);
  for (const k of Object.keys(value)) {
    if (!RULE_KEYS.includes(k)) {
      throw new BrokerError(`${where} has an unknown key '${k}' (a rule has ${RULE_KEYS.join(", ")})`);
    }
  }
  const who = parseWho(value, where);
  const rights = new Set(parseRights(value["rights"], `${where}.rights`));
  const addresses = value["addresses"];
  if (!Array.isArray(addresses) || addresses.length === 0) {
    throw new BrokerError(`${where}.addresses must be a non-empty list of addresses`);
  }
  const patterns = (addresses as unknown[]).map((a, i) =>
    parsePattern(a, `${where}.addresses[${i}]`, resolve),
  );
  return { who, rights, patterns };
}

/** Whether PLAIN lets any name and password in (no `sasl.users`), so a user name proves nothing. */
function plainTakesAnyName(options: BrokerOptions): boolean {
  const sasl = options.sasl;
  if (sasl === false || sasl?.users !== undefined) return false;
  return sasl?.mechanisms === undefined || sasl.mechanisms.includes("PLAIN");
}

/**
 * Whether a pattern covers a (resolved) address: a name covers itself and the paths under it, as a
 * token's audience does; unlike an audience, with case, as queue names have it here.
 */
function covers(pattern: Pattern, address: string): boolean {
  switch (pattern.kind) {
    case "all":
      return true;
    case "name":
      return address === pattern.name || address.startsWith(`${pattern.name}/`);
    case "prefix":
      return address.startsWith(pattern.prefix);
  }
}

/** Whether one of `rules` grants `right` on `address`. */
function granted(rules: readonly Rule[] | undefined, right: BrokerRight, address: string): boolean {
  return rules?.some((r) => r.rights.has(right) && r.patterns.some((p) => covers(p, address))) === true;
}

/** The rules by whom they name (`*` under its own key), so a check reads only the asker's. */
interface RulesByWho {
  readonly anonymous: readonly Rule[];
  readonly users: ReadonlyMap<string, readonly Rule[]>;
  readonly keyNames: ReadonlyMap<string, readonly Rule[]>;
}

function index(rules: readonly Rule[]): RulesByWho {
  const anonymous: Rule[] = [];
  const users = new Map<string, Rule[]>();
  const keyNames = new Map<string, Rule[]>();
  const add = (map: Map<string, Rule[]>, name: string, r: Rule): void => {
    const list = map.get(name);
    if (list) list.push(r);
    else map.set(name, [r]);
  };
  for (const r of rules) {
    if (r.who.kind === "anonymous") anonymous.push(r);
    else add(r.who.kind === "user" ? users : keyNames, r.who.name, r);
  }
  return { anonymous, users, keyNames };
}

/** The rights by the broker's `authorization` rules; without rules, everything is allowed. */
export class BrokerAuthorization {
  readonly #rules: RulesByWho | undefined;
  /** PLAIN accepts any name and password: a PLAIN name proves nothing. */
  readonly #plainUnverified: boolean;

  /**
   * Reads `options.authorization`; exact addresses are resolved with `resolve` (as link addresses
   * are), prefixes are only normalized.
   * @throws {BrokerError} a malformed rule (naming it, e.g. `authorization.rules[2].rights`); a rule
   *   naming a user while PLAIN accepts any name (no `sasl.users`), or a key name while SAS tokens
   *   are not verified (no `cbs.keys`) or that `cbs.keys` does not hold.
   */
  constructor(options: BrokerOptions, resolve: (address: string) => string) {
    this.#plainUnverified = plainTakesAnyName(options);
    const a = options.authorization;
    if (a === undefined) {
      this.#rules = undefined;
      return;
    }
    if (!isRecord(a) || !Array.isArray(a.rules)) {
      throw new BrokerError("authorization.rules must be a list of rules (an empty list denies everything)");
    }
    const rules = (a.rules as unknown[]).map((r, i) => parseRule(r, `authorization.rules[${i}]`, resolve));
    const keys = options.cbs?.keys;
    for (const [i, r] of rules.entries()) {
      const where = `authorization.rules[${i}]`;
      if (r.who.kind === "user" && this.#plainUnverified) {
        throw new BrokerError(
          `${where} names the user '${r.who.name}' while PLAIN accepts any name and password: configure sasl.users (or offer only EXTERNAL in sasl.mechanisms), or anyone could log in as them`,
        );
      }
      if (r.who.kind === "keyName") {
        if (keys === undefined) {
          throw new BrokerError(
            `${where} names the key '${r.who.name}' while SAS tokens are not verified: configure cbs.keys, or anyone could sign a token with that key name`,
          );
        }
        if (r.who.name !== ANY && !Object.hasOwn(keys, r.who.name)) {
          throw new BrokerError(`${where} names the key '${r.who.name}', which cbs.keys does not hold`);
        }
      }
    }
    this.#rules = index(rules);
  }

  /** Whether rules are configured (then what they do not grant is denied). */
  get enabled(): boolean {
    return this.#rules !== undefined;
  }

  /**
   * A connection's login as the rules see it: the name it logged in with (`mechanism`, `identity`
   * as SASL gave them), except a PLAIN name while PLAIN accepts any name, which proves nothing, so
   * that client counts as anonymous.
   */
  loginOf(
    mechanism: string | undefined,
    identity: string | undefined,
  ): { readonly user: string | undefined } {
    return { user: mechanism === "PLAIN" && this.#plainUnverified ? undefined : identity };
  }

  /**
   * Whether `who` holds `right` on `address` (a resolved address): a rule naming its login grants it,
   * or one of its tokens does (a SAS token by the rules naming its key name, a JWT by its own rights).
   * Always true without rules.
   */
  check(who: Requester, right: BrokerRight, address: string): boolean {
    const rules = this.#rules;
    if (rules === undefined) return true;
    const login = who.login;
    if (login !== undefined) {
      const user = login.user;
      if (
        user === undefined
          ? granted(rules.anonymous, right, address)
          : granted(rules.users.get(user), right, address) || granted(rules.users.get(ANY), right, address)
      ) {
        return true;
      }
    }
    for (const t of who.tokens) {
      if (t.rights?.includes(right) === true) return true;
      const key = t.keyName;
      if (key === undefined) continue;
      if (
        granted(rules.keyNames.get(key), right, address) ||
        granted(rules.keyNames.get(ANY), right, address)
      ) {
        return true;
      }
    }
    return false;
  }
}

/**
 * The rights of which a management request needs one, on the entity it names: on `$management`,
 * `manage` (READ, CREATE, DELETE), except the Event Hubs READs of a hub or partition, which the
 * SDKs' producers and consumers make before they send or receive (any right); on a Service Bus
 * entity's `<entity>/$management`, what the operation does (as Service Bus asks for its claims).
 */
export function requestRights(request: NodeRequest): readonly BrokerRight[] {
  if (isEntityManagementNode(request.node)) {
    return [ENTITY_OPERATION_RIGHTS.get(request.operation ?? "") ?? "manage"];
  }
  const readsHub =
    (request.type === EVENTHUB_TYPE || request.type === PARTITION_TYPE) &&
    request.operation?.toUpperCase() === "READ";
  return readsHub ? RIGHTS : ["manage"];
}

/** The right each operation of `<entity>/$management` needs (other operations need `manage`). */
const ENTITY_OPERATION_RIGHTS: ReadonlyMap<string, BrokerRight> = new Map<string, BrokerRight>([
  ["com.microsoft:schedule-message", "send"],
  ["com.microsoft:cancel-scheduled-message", "send"],
  ["com.microsoft:peek-message", "listen"],
  ["com.microsoft:renew-lock", "listen"],
  ["com.microsoft:receive-by-sequence-number", "listen"],
  ["com.microsoft:update-disposition", "listen"],
  ["com.microsoft:renew-session-lock", "listen"],
  ["com.microsoft:set-session-state", "listen"],
  ["com.microsoft:get-session-state", "listen"],
  ["com.microsoft:get-message-sessions", "listen"],
]);

/**
 * Why `who` was refused, naming the right(s) and the address, e.g. `the right 'send' on 'orders'
 * is not granted to user 'alice'`.
 */
export function denialDescription(rights: readonly BrokerRight[], address: string, who: Requester): string {
  const quoted = rights.map((r) => `'${r}'`);
  const whom: string[] = [];
  if (who.login !== undefined) {
    whom.push(who.login.user === undefined ? "anonymous clients" : `user '${who.login.user}'`);
  }
  if (who.tokens.length > 0) {
    const names = who.tokens.map((t) => (t.keyName === undefined ? "a JWT" : `key '${t.keyName}'`));
    whom.push(`the tokens of this connection (${[...new Set(names)].join(", ")})`);
  }
  const to = whom.length === 0 ? "this connection" : whom.join(" or to ");
  return quoted.length === 1
    ? `the right ${quoted[0]!} on '${address}' is not granted to ${to}`
    : `none of the rights ${quoted.join(", ")} on '${address}' is granted to ${to}`;
}
