/**
 * The embedded AMQP 1.0 broker (tests, demos, the `uamqp broker` command).
 *
 * @module uamqp/broker
 */
export { Broker } from "./broker.js";
export { BrokerError } from "./errors.js";
export { normalizeAddress } from "./address.js";
export { BROKER_DEFAULTS } from "./options.js";
export { sasSignature, parseSasToken, type SasToken } from "./nodes/sas-token.js";
export type {
  AddressHooks,
  BrokerAuthorizationOptions,
  BrokerAuthorizationRule,
  BrokerCbsOptions,
  BrokerErrorFields,
  BrokerEvent,
  BrokerLimits,
  BrokerOptions,
  BrokerQueueOptions,
  BrokerRight,
  BrokerSaslOptions,
  DeliveryHook,
  JwtVerdict,
  NodeRequest,
  NodeResponse,
  QueueStats,
} from "./options.js";
export type {
  ServiceBusEntityOptions,
  ServiceBusOptions,
  ServiceBusTopicOptions,
} from "./servicebus/options.js";
export type {
  EventHubOptions,
  EventHubRetention,
  EventHubStats,
  EventHubsOptions,
  PartitionStats,
} from "./eventhubs/options.js";
