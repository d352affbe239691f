import { AMQPError } from "../errors/amqp-error.js";

/**
 * The byte stream is not valid AMQP framing (bad protocol header, frame size out of bounds, bad data
 * offset). Carries `amqp:connection:framing-error`; the connection is closed.
 */
export class FramingError extends AMQPError {
  override readonly code = "AMQP_FRAMING";
  /** Offset in the connection's byte stream. */
  readonly offset: number;
  constructor(message: string, offset: number) {
    super(`${message} (at stream offset ${offset})`, {
      condition: "amqp:connection:framing-error",
      description: message,
    });
    this.offset = offset;
  }
}
