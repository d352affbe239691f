export {
  SaslAnonymousMechanism,
  SaslPlainMechanism,
  SaslExternalMechanism,
  SaslMssbcbsMechanism,
  SaslCode,
  parsePlainResponse,
  type SaslMechanism,
  type SaslMechanismChoice,
  type PlainCredentials,
} from "./mechanisms.js";
export { SaslClientNegotiator, type SaslClientStep } from "./sasl-client.js";
export {
  authenticateInit,
  type SaslServerOptions,
  type SaslAuthRequest,
  type SaslServerResult,
} from "./sasl-server.js";
