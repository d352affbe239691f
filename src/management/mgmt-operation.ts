/**
 * Management requests (uamqp's `MgmtOperation`, `Session.mgmt_request`, `AMQPClient.mgmt_request`):
 * a request message with the application properties `operation` and `type`, sent to a management
 * node (`$management` by default) over a request/response link pair (request-response.ts), and its
 * reply with a status code and description. Unlike uamqp, a non-2xx status rejects with a typed
 * {@link ErrorResponse} (uamqp only logged it), unless `throwOnErrorStatus: false` asks for uamqp's
 * behaviour, and many requests may be in flight on one link pair.
 */
import { AMQPError } from "../errors/amqp-error.js";
import { AMQPConnectionError } from "../errors/exceptions.js";
import type { Message } from "../message/message.js";
import { WAIT_OPTIONS, bounded, type WaitOptions } from "../policy/wait.js";
import { checkOptions, type OptionNames } from "../util/options.js";
import { tokenInForce, type TokenConnection } from "./cbs-authenticator.js";
import { RequestResponseLink, isSuccess, responseStatus, type RequestSession } from "./request-response.js";

/** How the status of a management reply is read, and what a status other than 2xx does. */
export interface MgmtStatusOptions {
  /**
   * Application property (or properties, tried in order) of the reply's status code (uamqp's
   * `status_code_field`). @defaultValue `"statusCode"`, else `"status-code"` (Service Bus and Event
   * Hubs spell it differently)
   */
  readonly statusCodeField?: string | readonly string[] | undefined;
  /**
   * Application property (or properties, tried in order) of the reply's status description
   * (uamqp's `description_fields`). @defaultValue `"statusDescription"`, else `"status-description"`
   */
  readonly descriptionFields?: string | readonly string[] | undefined;
  /**
   * Reject a reply whose status is not 2xx with an `ErrorResponse`; `false` resolves with it
   * instead (uamqp's behaviour, which only logged it). @defaultValue true
   */
  readonly throwOnErrorStatus?: boolean | undefined;
}
const MGMT_STATUS_OPTIONS: OptionNames<MgmtStatusOptions> = {
  statusCodeField: true,
  descriptionFields: true,
  throwOnErrorStatus: true,
};

/** Options of a `MgmtOperation` (uamqp's `MgmtOperation` kwargs). */
export interface MgmtOperationOptions extends MgmtStatusOptions {
  /** The management node. @defaultValue "$management" */
  readonly target?: string | undefined;
}
const MGMT_OPERATION_OPTIONS: OptionNames<MgmtOperationOptions> = {
  ...MGMT_STATUS_OPTIONS,
  target: true,
};

/**
 * Options of `MgmtOperation.execute()`: `timeout` (ms) bounds the wait for the reply (uamqp's
 * `timeout`, 0 = none), `signal` stops it.
 */
export type ExecuteOptions = WaitOptions;
const EXECUTE_OPTIONS: OptionNames<ExecuteOptions> = WAIT_OPTIONS;

/** Options of `Session.mgmtRequest()` and `AMQPClient.mgmtRequest()` (uamqp's `mgmt_request` kwargs). */
export interface MgmtRequestOptions extends MgmtStatusOptions, WaitOptions {
  /** The request's `type` application property (uamqp's `op_type`). @defaultValue "empty" */
  readonly opType?: string | undefined;
  /** The management node. @defaultValue "$management" */
  readonly node?: string | undefined;
}
/** @internal */
export const MGMT_REQUEST_OPTIONS: OptionNames<MgmtRequestOptions> = {
  ...MGMT_STATUS_OPTIONS,
  ...WAIT_OPTIONS,
  opType: true,
  node: true,
};

/**
 * What a {@link MgmtOperation} needs of its session (the client's `Session` is one): its link
 * pairs, and its connection, whose token (with a token auth) must be in force before the
 * management node accepts the links.
 */
export interface ManagementSession extends RequestSession {
  /** The session's connection. */
  readonly connection: TokenConnection;
}

/** The default management node. */
export const MANAGEMENT_NODE = "$management";

/** `type` of a request when none is given (uamqp's `op_type` default). */
const DEFAULT_OP_TYPE = "empty";

/** Where replies carry their status when the caller names no field: Service Bus's, then Azure CBS/Event Hubs'. */
const DEFAULT_STATUS_CODE_FIELDS = ["statusCode", "status-code"] as const;
const DEFAULT_DESCRIPTION_FIELDS = ["statusDescription", "status-description"] as const;

/** The reply to a management request. */
export interface MgmtResponse {
  /** The reply's status code (HTTP style: 200 OK, 404 not found…); undefined when it carried none. */
  readonly statusCode: number | undefined;
  /** The reply's status description, if any. */
  readonly description: string | undefined;
  /** The reply message (its body holds the result, e.g. the map of a READ). */
  readonly message: Message;
}

/** Status codes on which the same request may succeed later: timeouts, throttling, server errors. */
function retryableStatus(status: number | undefined): boolean {
  return status === 408 || status === 429 || (status !== undefined && status >= 500);
}

/**
 * A management request answered with a status other than 2xx (beyond uamqp, which only logged it).
 * Retryable for 408, 429 and 5xx.
 *
 * @example
 * ```ts
 * try {
 *   await client.mgmtRequest(message, "READ");
 * } catch (e) {
 *   if (e instanceof ErrorResponse && e.statusCode === 404) console.log("no such entity");
 * }
 * ```
 */
export class ErrorResponse extends AMQPError {
  /** Stable error code of this class: `"AMQP_ERROR_RESPONSE"`. */
  override readonly code: string = "AMQP_ERROR_RESPONSE";
  /** The reply's status code (undefined when it carried none). */
  readonly statusCode: number | undefined;
  /** The `operation` of the request. */
  readonly operation: string;
  /** The reply message. */
  readonly response: Message;

  /**
   * @param operation - the request's `operation`
   * @param status - the reply's status code and description
   * @param response - the reply message
   */
  constructor(
    operation: string,
    status: { readonly statusCode: number | undefined; readonly description: string | undefined },
    response: Message,
  ) {
    const { statusCode, description } = status;
    const head =
      statusCode === undefined
        ? `management request ${operation}: the reply carried no status code`
        : `management request ${operation} failed with status ${statusCode}`;
    super(description !== undefined && description !== "" ? `${head}: ${description}` : head, {
      description,
      retryable: retryableStatus(statusCode),
    });
    this.statusCode = statusCode;
    this.operation = operation;
    this.response = response;
  }
}

function fieldList(
  field: string | readonly string[] | undefined,
  defaults: readonly string[],
): readonly string[] {
  if (field === undefined) return defaults;
  return typeof field === "string" ? [field] : field;
}

/**
 * Sends one management request on `link` and reads its reply: the one path of `MgmtOperation`,
 * `Session.mgmtRequest` and `AMQPClient.mgmtRequest`.
 */
async function executeRequest(
  link: RequestResponseLink,
  operation: string,
  opType: string | undefined,
  message: Message,
  options: ExecuteOptions & MgmtStatusOptions,
): Promise<MgmtResponse> {
  if (typeof operation !== "string" || operation === "") {
    throw new TypeError("a management request needs an operation (a non-empty string)");
  }
  const reply = await link.request(message, {
    applicationProperties: { operation, type: opType ?? DEFAULT_OP_TYPE },
    timeout: options.timeout,
    signal: options.signal,
    what: `management request ${operation}`,
  });
  const status = responseStatus(
    reply,
    fieldList(options.statusCodeField, DEFAULT_STATUS_CODE_FIELDS),
    fieldList(options.descriptionFields, DEFAULT_DESCRIPTION_FIELDS),
  );
  if (!isSuccess(status.statusCode) && options.throwOnErrorStatus !== false) {
    throw new ErrorResponse(operation, status, reply);
  }
  return { statusCode: status.statusCode, description: status.description, message: reply };
}

/**
 * Attaches a link pair for management requests and wraps a refusal in uamqp's error
 * (`AMQPConnectionError`: "Failed to open mgmt link").
 */
async function openManagementLink(link: RequestResponseLink, options: ExecuteOptions): Promise<void> {
  try {
    await link.open(options);
  } catch (e) {
    if (!link.error) throw e; // a timeout or an abort of this wait
    throw new AMQPConnectionError(`Failed to open mgmt link to ${link.node}: ${link.error.message}`, {
      cause: link.error,
      retryable: link.error.retryable,
    });
  }
}

/**
 * The management link pairs of a session, one per node, each kept while usable (uamqp caches one
 * per node too): the path of `Session.mgmtRequest` and `AMQPClient.mgmtRequest`.
 * @internal
 */
export class ManagementLinks {
  readonly #session: ManagementSession;
  readonly #pairs = new Map<string, { readonly link: RequestResponseLink; readonly opened: Promise<void> }>();

  constructor(session: ManagementSession) {
    this.#session = session;
  }

  /**
   * Sends a management request to `options.node` (default `$management`) on its link pair, made
   * when there is none or the last one failed. The caller checked the option names.
   */
  async request(message: Message, operation: string, options: MgmtRequestOptions): Promise<MgmtResponse> {
    const { opType, node = MANAGEMENT_NODE, timeout, signal, ...status } = options;
    const wait = { timeout, signal };
    await tokenInForce(this.#session.connection, wait);
    const pair = this.#pair(node);
    await bounded(pair.opened, { ...wait, what: `management link to ${node}` });
    return executeRequest(pair.link, operation, opType ?? DEFAULT_OP_TYPE, message, { ...status, ...wait });
  }

  /** The link pair to `node`: the cached one while usable, else a new one. */
  #pair(node: string): { readonly link: RequestResponseLink; readonly opened: Promise<void> } {
    const cached = this.#pairs.get(node);
    if (cached?.link.usable === true) return cached;
    const link = new RequestResponseLink(this.#session, node);
    const opened = openManagementLink(link, {});
    opened.catch(() => undefined);
    const entry = { link, opened };
    this.#pairs.set(node, entry);
    return entry;
  }

  /** Forgets the pairs (their session ended). */
  clear(): void {
    this.#pairs.clear();
  }
}

/**
 * A management client on a session (uamqp's `MgmtOperation`): one sender/receiver link pair to
 * `target`, any number of requests in flight on it, each reply matched to its request by
 * correlation-id.
 *
 * @example
 * ```ts
 * const mgmt = new MgmtOperation(session, { statusCodeField: "status-code" });
 * const request = new Message({ body: null, applicationProperties: { name: "orders" } });
 * const { statusCode, message } = await mgmt.execute("READ", "com.microsoft:servicebus", request, {
 *   timeout: 5000,
 * });
 * console.log(statusCode, message.value); // 200 Map { "name" => "orders", … }
 * await mgmt.close();
 * ```
 */
export class MgmtOperation<S extends ManagementSession = ManagementSession> implements AsyncDisposable {
  /** The session the links are on. */
  readonly session: S;
  /** The management node. */
  readonly target: string;
  readonly #status: MgmtStatusOptions;
  #link: RequestResponseLink | undefined;
  /** The link pair once attached (or why it could not be). */
  readonly #ready: Promise<RequestResponseLink>;
  #error: AMQPError | undefined;
  #closed = false;

  /**
   * Attaches the link pair to `target` now (on a connection with a token auth, once `$cbs`
   * accepted the token: the management node wants it); the first `execute` waits for it.
   * @throws {TypeError} for an unknown option.
   */
  constructor(session: S, options: MgmtOperationOptions = {}) {
    checkOptions(options, MGMT_OPERATION_OPTIONS, "MgmtOperation");
    const { target, ...status } = options;
    this.session = session;
    this.target = target ?? MANAGEMENT_NODE;
    this.#status = status;
    this.#ready = this.#attach();
    this.#ready.catch((e: unknown) => {
      this.#error = e instanceof AMQPError ? e : new AMQPConnectionError(String(e), { cause: e });
    });
  }

  async #attach(): Promise<RequestResponseLink> {
    await tokenInForce(this.session.connection, {});
    if (this.#closed) throw new AMQPConnectionError("the MgmtOperation was closed", { retryable: false });
    const link = new RequestResponseLink(this.session, this.target);
    this.#link = link;
    await openManagementLink(link, {});
    return link;
  }

  /** The error that ended the link pair, if any (sticky, as uamqp's `mgmt_error`). */
  get error(): AMQPError | undefined {
    return this.#link?.error ?? this.#error;
  }

  /**
   * Resolves when the peer attached both links.
   * @throws `AMQPConnectionError` when refused; `ClientTimeout` after `timeout`; `AMQPAbortError`.
   */
  async open(options: ExecuteOptions = {}): Promise<void> {
    checkOptions(options, EXECUTE_OPTIONS, "MgmtOperation.open()");
    await bounded(this.#ready, { ...options, what: `management link to ${this.target}` });
  }

  /**
   * Sends `message` with the application properties `operation` and `type` (`opType`, default
   * `"empty"` as in uamqp) and resolves with the reply. The message is not changed: a copy gets
   * its own message-id and the reply-to address.
   * @param options - `timeout` (ms) bounds the wait for the reply; `signal` stops it
   * @throws {ErrorResponse} for a reply status other than 2xx (unless `throwOnErrorStatus: false`);
   *   {@link ClientTimeout} without a reply within `timeout`; `AMQPAbortError`; the link pair's
   *   error (`AMQPConnectionError`…); {@link TypeError} for an unknown option or no operation.
   */
  async execute(
    operation: string,
    opType: string | undefined,
    message: Message,
    options: ExecuteOptions = {},
  ): Promise<MgmtResponse> {
    checkOptions(options, EXECUTE_OPTIONS, "MgmtOperation.execute()");
    const link = await bounded(this.#ready, { ...options, what: `management link to ${this.target}` });
    return executeRequest(link, operation, opType, message, { ...this.#status, ...options });
  }

  /** Detaches the links; requests still waiting reject. Never rejects. */
  async close(): Promise<void> {
    this.#closed = true;
    await this.#link?.close();
  }

  /** `await using` support: {@link MgmtOperation.close}. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }
}
