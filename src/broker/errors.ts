/**
 * Errors raised by the embedded broker's own API (not by the protocol).
 */
import { AMQPError } from "../errors/amqp-error.js";

/** A broker API misuse, e.g. restarting a closed broker. Code `AMQP_BROKER`. */
export class BrokerError extends AMQPError {
  /** Always `"AMQP_BROKER"`. */
  override readonly code = "AMQP_BROKER";
}
