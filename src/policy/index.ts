export { ErrorAction, type ErrorActionInit } from "./error-action.js";
export { ErrorPolicy, type ErrorPolicyOptions } from "./error-policy.js";
export { computeBackoffMs, ExponentialBackoff, DEFAULT_BACKOFF, type BackoffOptions } from "./backoff.js";
export { sleep, MAX_TIMER_MS, type WaitOptions, type SignalOptions } from "./wait.js";
export { DEFAULT_RECONNECT, type ReconnectOptions } from "./reconnect.js";
