import { AMQPError } from "./amqp-error.js";

/**
 * Raised when bytes cannot be decoded as AMQP 1.0 data: truncated input, a size or count larger
 * than the bytes that remain, nesting deeper than the limit, invalid UTF-8, an unknown constructor.
 * Carries the AMQP condition `amqp:decode-error`.
 */
export class DecodeError extends AMQPError {
  /** Stable error code of this class: `"AMQP_DECODE"`. */
  override readonly code = "AMQP_DECODE";
  /** Byte offset in the input where the problem was found. */
  readonly offset: number;
  /** The format code being decoded, when known. */
  readonly formatCode: number | undefined;

  /**
   * @param message - what is wrong (the offset and format code are appended)
   * @param offset - byte offset of the problem in the input
   * @param formatCode - the format code being decoded, when known
   */
  constructor(message: string, offset: number, formatCode?: number) {
    const where =
      formatCode === undefined
        ? ` at offset ${offset}`
        : ` at offset ${offset} (format code 0x${formatCode.toString(16).padStart(2, "0")})`;
    super(message + where, { condition: "amqp:decode-error", description: message + where });
    this.offset = offset;
    this.formatCode = formatCode;
  }
}

/** Raised when a value cannot be encoded as the requested AMQP type (out of range, wrong JS type). */
export class EncodeError extends AMQPError {
  /** Stable error code of this class: `"AMQP_ENCODE"`. */
  override readonly code = "AMQP_ENCODE";
}
