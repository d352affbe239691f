export { ErrorAction, type ErrorActionInit } from "./error-action.js";
export { ErrorPolicy, type ErrorPolicyOptions } from "./error-policy.js";
export {
  computeBackoffMs,
  ExponentialBackoff,
  sleep,
  DEFAULT_BACKOFF,
  MAX_TIMER_MS,
  type BackoffOptions,
} from "./backoff.js";
