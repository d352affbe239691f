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
