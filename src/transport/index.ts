/**
 * Byte transports: TCP, TLS, WebSocket (optionally through an HTTP CONNECT proxy) and an in-process
 * pair. This layer moves bytes and knows nothing of AMQP frames.
 */
export type {
  ConnectOptions,
  OnTransport,
  PeerCertificate,
  Transport,
  TransportFactory,
  TransportHandler,
  TransportServer,
} from "./transport.js";
export {
  ConnectFailedError,
  ConnectTimeoutError,
  ProxyError,
  TlsError,
  TransportError,
  WebSocketError,
  type TransportErrorOptions,
} from "./errors.js";
export { connectTcp, listenTcp, type TcpConnectOptions, type TcpListenOptions } from "./tcp.js";
export {
  connectTls,
  listenTls,
  type TlsClientOptions,
  type TlsConnectOptions,
  type TlsListenOptions,
  type TlsServerOptions,
} from "./tls.js";
export { AMQP_WEBSOCKET_PROTOCOL, connectWebSocket, type WebSocketConnectOptions } from "./websocket.js";
export { listenWebSocket, type WebSocketListenOptions } from "./websocket-server.js";
export { connectHttpProxy, type HttpProxyConnectOptions, type HttpProxyOptions } from "./http-proxy.js";
export { createMemoryTransportPair, MemoryTransport, type MemoryTransportOptions } from "./memory.js";
export { SocketTransport } from "./socket-transport.js";
export { WebSocketTransport, WEBSOCKET_HIGH_WATER_MARK } from "./websocket-transport.js";
