export {
  AMQPAuth,
  SASLAnonymous,
  SASLPlain,
  SASLExternal,
  NoSASL,
  TransportType,
  DEFAULT_AMQPS_PORT,
  DEFAULT_AMQP_PORT,
  DEFAULT_AMQP_WSS_PORT,
  DEFAULT_WEBSOCKET_PATH,
  type HttpProxy,
  type TransportOptions,
} from "./amqp-auth.js";
export {
  CBSAuth,
  SASTokenAuth,
  JWTTokenAuth,
  SAS_TOKEN_TYPE,
  JWT_TOKEN_TYPE,
  DEFAULT_PUT_TOKEN_TIMEOUT_MS,
  type CBSAuthOptions,
  type SASTokenAuthOptions,
  type SharedAccessKeyOptions,
  type GetTokenCallback,
} from "./cbs-auth.js";
export { TokenRetryPolicy, type TokenRetryPolicyOptions } from "./token-retry-policy.js";
export { createSASToken, DEFAULT_SAS_EXPIRY_MS } from "./sas-token.js";
export { type AccessToken, type TokenFetchOptions } from "./token-cache.js";
export {
  parseConnectionString,
  authFromConnectionString,
  ConnectionStringError,
  type ConnectionStringErrorReason,
  type ConnectionStringProperties,
  type ConnectionStringAuthOptions,
  type ConnectionStringInfo,
  type ConnectionStringOptions,
  type ConnectionStringTokenOptions,
} from "./connection-string.js";
