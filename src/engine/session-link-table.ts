/**
 * The link endpoints of a session: handle allocation, the tables by our handle, by the peer's
 * handle and by link name, pairing the peer's ATTACH with ours, links the peer attaches that we
 * did not open (accepted, handed to `onRemoteAttach`, or refused), and the peer's DETACH.
 */
import type { AMQPError } from "../errors/amqp-error.js";
import { Attach, type AttachFields, type DetachFields } from "../frames/performatives.js";
import {
  acceptedLinkOptions,
  attachFields,
  generatedLinkName,
  type AcceptLinkOptions,
} from "./link-attach-fields.js";
import type { Link, LinkOptions } from "./link.js";
import { ReceiverLink } from "./receiver-link.js";
import { localCloseError } from "./remote-errors.js";
import { SenderLink } from "./sender-link.js";
import type { AmqpSession } from "./session.js";
import { MAX_HANDLE_MAX } from "./session-window.js";

/** The links of one session, by our handle, by the peer's handle and by role and name. */
export class SessionLinkTable {
  readonly #session: AmqpSession;
  /** Our links by our handle; a free handle is undefined. */
  readonly #byHandle: (Link | undefined)[] = [];
  /** Links by the peer's handle (set once its ATTACH arrived). */
  readonly #byRemoteHandle = new Map<number, Link>();
  /** Our links by `role:name`, to pair the peer's ATTACH with ours. */
  readonly #byName = new Map<string, Link>();

  constructor(session: AmqpSession) {
    this.#session = session;
  }

  /** Links by the peer's handle: the session routes FLOW and TRANSFER frames with it. */
  get byRemoteHandle(): ReadonlyMap<number, Link> {
    return this.#byRemoteHandle;
  }

  /** The lowest free handle within our handle-max and the peer's. */
  #allocHandle(): number {
    const s = this.#session;
    const max = Math.min(s.handleMax, s.remote?.handleMax ?? MAX_HANDLE_MAX);
    for (let h = 0; h <= max; h++) if (this.#byHandle[h] === undefined) return h;
    throw localCloseError("no free link handle in this session");
  }

  #attachFields(role: boolean, options: LinkOptions): AttachFields {
    const name = options.name ?? generatedLinkName(role);
    return attachFields(name, this.#allocHandle(), role, options);
  }

  /** Attaches a sending link (ATTACH goes out at once; await `link.attached()`). */
  attachSender(options: LinkOptions): SenderLink {
    const link = new SenderLink(this.#session, -1 >>> 0, this.#attachFields(false, options));
    if (options.maxInFlight !== undefined) link.maxInFlight = options.maxInFlight;
    if (options.maxInFlightBytes !== undefined) link.maxInFlightBytes = options.maxInFlightBytes;
    return this.#register(link);
  }

  /** Attaches a receiving link; `autoCredit` > 0 sets automatic credit, issued once attached. */
  attachReceiver(options: LinkOptions & { autoCredit?: number }): ReceiverLink {
    const link = new ReceiverLink(this.#session, -1 >>> 0, this.#attachFields(true, options));
    link.autoCredit = options.autoCredit ?? 0;
    return this.#register(link);
  }

  /**
   * Accepting side: answers a peer's ATTACH with our own endpoint. Pass `source`/`target` as the
   * node we bind (undefined refuses the link; then detach it with an error).
   */
  accept(remote: AttachFields, options: AcceptLinkOptions): SenderLink | ReceiverLink {
    const weAreReceiver = !remote.role;
    const fields = this.#attachFields(weAreReceiver, acceptedLinkOptions(remote, options));
    if (options.source !== undefined) fields.source = options.source;
    if (options.target !== undefined) fields.target = { type: "target", ...options.target };
    // A peer that sent link properties may merge ours into its own without a null check (azure-eventhub's
    // Python stack calls `dict.update` on them): answer with a map, empty when we have none.
    if (remote.properties !== undefined) fields.properties ??= {};
    const link = weAreReceiver
      ? new ReceiverLink(this.#session, -1 >>> 0, fields)
      : new SenderLink(this.#session, -1 >>> 0, fields);
    if (link instanceof ReceiverLink) link.autoCredit = options.autoCredit ?? 0;
    this.#register(link);
    link.handleRemoteAttach(remote, true);
    this.#byRemoteHandle.set(remote.handle, link);
    return link;
  }

  /** Takes the handle of the link's ATTACH, files the link and sends the ATTACH. */
  #register<L extends Link>(link: L): L {
    (link as { handle: number }).handle = link.local.handle;
    this.#byHandle[link.handle] = link;
    this.#byName.set(`${link.role}:${link.name}`, link);
    const s = this.#session;
    s.connection.writeFrame(s.channel, Attach, link.local);
    return link;
  }

  /** Removes a detached link from every table (its handles become free). */
  forget(link: Link): void {
    if (this.#byHandle[link.handle] === link) this.#byHandle[link.handle] = undefined;
    if (link.remoteHandle !== undefined && this.#byRemoteHandle.get(link.remoteHandle) === link) {
      this.#byRemoteHandle.delete(link.remoteHandle);
    }
    // A link attached again under the same name (the older one stolen) keeps its entry.
    const key = `${link.role}:${link.name}`;
    if (this.#byName.get(key) === link) this.#byName.delete(key);
  }

  /**
   * The peer's ATTACH: pairs it with our link of that name, else hands it to `onRemoteAttach`,
   * else refuses it. A handle above our handle-max or already in use is a protocol error.
   */
  handleAttach(attach: AttachFields): void {
    const s = this.#session;
    if (attach.handle > s.handleMax) {
      s.violation(
        "amqp:connection:framing-error",
        `attach handle ${attach.handle} exceeds handle-max ${s.handleMax}`,
      );
      return;
    }
    if (this.#byRemoteHandle.has(attach.handle)) {
      s.endWithError("amqp:session:handle-in-use", `handle ${attach.handle} is already in use`);
      return;
    }
    // Our role is the opposite of the peer's.
    const ours = this.#byName.get(`${attach.role ? "sender" : "receiver"}:${attach.name}`);
    if (ours && ours.remoteHandle === undefined) {
      this.#byRemoteHandle.set(attach.handle, ours);
      s.onLinkAttached?.(ours, attach);
      ours.handleRemoteAttach(attach);
      return;
    }
    if (s.onRemoteAttach) {
      s.onRemoteAttach(attach, s);
      return;
    }
    // Nobody accepts links here: refuse (attach with null terminus, then detach with an error).
    const link = this.accept(attach, {});
    void link.detach({
      closed: true,
      error: { condition: "amqp:not-found", description: "no node accepts links here" },
    });
  }

  /** The peer's DETACH; one for a handle it never attached ends the session. */
  handleDetach(detach: DetachFields): void {
    const link = this.#byRemoteHandle.get(detach.handle);
    if (!link) {
      this.#session.endWithError(
        "amqp:session:unattached-handle",
        `detach for unattached handle ${detach.handle}`,
      );
      return;
    }
    link.handleRemoteDetach(detach);
  }

  /** Fails every link with `error` (the session is ending or ended). */
  terminateAll(error: AMQPError): void {
    for (const l of this.#byHandle) l?.terminate(error);
  }

  /** Empties every table (the session ended). */
  clear(): void {
    this.#byHandle.length = 0;
    this.#byRemoteHandle.clear();
    this.#byName.clear();
  }
}
