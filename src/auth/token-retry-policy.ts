/**
 * How often a refused put-token is tried again (uamqp's `TokenRetryPolicy(retries=3, backoff=0)`).
 */
import { checkFinite, checkInteger } from "../util/options.js";

/** The longest delay a Node.js timer can wait. */
const MAX_BACKOFF_MS = 2_147_483_647;

/** Options of {@link TokenRetryPolicy}. */
export interface TokenRetryPolicyOptions {
  /** Put-token attempts after the first failed one. @defaultValue 3 */
  readonly retries?: number | undefined;
  /** Delay before each retry, in milliseconds (uamqp's `backoff`, also in milliseconds). @defaultValue 0 */
  readonly backoff?: number | undefined;
}

/**
 * Retry policy of the CBS put-token request: `retries` more attempts after a failed one, `backoff`
 * milliseconds apart. The count starts again for every authentication (on open and on each refresh);
 * uamqp counted over the auth object's whole life.
 *
 * @example
 * ```ts
 * const auth = SASTokenAuth.fromSharedAccessKey(uri, "RootManageSharedAccessKey", key, {
 *   retryPolicy: new TokenRetryPolicy({ retries: 5, backoff: 2_000 }),
 * });
 * ```
 */
export class TokenRetryPolicy {
  /** Put-token attempts after the first failed one. */
  readonly retries: number;
  /** Delay before each retry, in milliseconds. */
  readonly backoff: number;

  /**
   * @throws {RangeError} when `retries` is not an integer >= 0 or `backoff` not in [0, 2^31 - 1] ms.
   */
  constructor(options: TokenRetryPolicyOptions = {}) {
    const retries = checkInteger("TokenRetryPolicy: retries", options.retries ?? 3, 0);
    const backoff = checkFinite("TokenRetryPolicy: backoff", options.backoff ?? 0, 0, MAX_BACKOFF_MS);
    this.retries = retries;
    this.backoff = backoff;
  }
}
