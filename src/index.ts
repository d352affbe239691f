/**
 * uamqp for TypeScript: an AMQP 1.0 client library with uamqp's API.
 *
 * The public API is re-exported from each layer's curated index (every name there is listed
 * explicitly). `codec` is also available as a namespace: `codec.encode(value)`, `codec.decode(bytes)`.
 *
 * @module uamqp
 */
export * as codec from "./codec/index.js";
export {
  AMQPType,
  AMQPuByte,
  AMQPuShort,
  AMQPuInt,
  AMQPuLong,
  AMQPByte,
  AMQPShort,
  AMQPInt,
  AMQPLong,
  AMQPFloat,
  AMQPDouble,
  AMQPDecimal32,
  AMQPDecimal64,
  AMQPDecimal128,
  AMQPChar,
  AMQPSymbol,
  AMQPString,
  AMQPBinary,
  AMQPTimestamp,
  AMQPUuid,
  AMQPArray,
  AMQPDescribed,
  typeOf,
  type AMQPValue,
  type AMQPTypeName,
  type AMQPArrayElementType,
} from "./codec/values.js";
export { amqpEquals } from "./codec/equals.js";
export { wrap, unwrap } from "./codec/wrap.js";
export * from "./errors/index.js";
export * from "./policy/index.js";
export * from "./message/index.js";
export * from "./address/index.js";
export * from "./auth/index.js";
export * from "./management/index.js";
export * from "./client/index.js";
export { setLogger, getLogger, type AMQPLogger, type AMQPLoggerLike } from "./util/log.js";
export { VERSION, getPlatformInfo } from "./util/platform.js";
// Thrown by connect (Connection.open, AMQPClient.open): exported so that `instanceof` works.
export {
  TransportError,
  ConnectFailedError,
  ConnectTimeoutError,
  TlsError,
  ProxyError,
  WebSocketError,
} from "./transport/errors.js";
// Types that appear in public signatures.
export type { Transport } from "./transport/transport.js";
export type { SaslMechanism } from "./sasl/mechanisms.js";
export type { ErrorFields } from "./engine/remote-errors.js";
export type { DeliveryState } from "./codec/definitions/messaging.js";
export type { ByteWriter } from "./util/byte-writer.js";
// Types that appear in public signatures, exported so that they are documented (TypeDoc) and nameable.
export type { TransportHandler, PeerCertificate } from "./transport/transport.js";
export type { TransportErrorOptions } from "./transport/errors.js";
export type { TlsClientOptions, TlsServerOptions } from "./transport/tls.js";
export type { MessageSections } from "./message/encode.js";
export type { UnknownComposite, Tagged, Simplify } from "./codec/composite.js";
export type { OutcomeMembers } from "./codec/definitions/messaging.js";
