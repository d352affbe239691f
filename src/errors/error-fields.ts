/**
 * The AMQP `error` composite (AMQP 1.0 §2.8.14) as plain fields: the one type for it in this
 * package. The error classes carry these fields, the engine reads and writes them in CLOSE, END and
 * DETACH, the broker answers with them, and `toErrorFields` (in `mapping.ts`) makes them of any error.
 */

/**
 * The fields of an AMQP `error` composite, with the mandatory `condition`: the shape the codec
 * decodes (`ErrorComposite.decodeBody`) and encodes. `info` values are AMQP values; this layer does
 * not depend on the codec, so they are `unknown` unless a layer that does names them
 * (`ErrorCompositeFields<AMQPValue>`).
 */
export interface ErrorCompositeFields<Info = unknown> {
  /** `condition` (symbol): what went wrong, e.g. `amqp:not-found`. */
  readonly condition: string;
  /** `description` (string): human-readable detail. */
  readonly description?: string | undefined;
  /** `info` (fields): supplementary information, symbol keys. */
  readonly info?: Readonly<Record<string, Info>> | undefined;
}

/**
 * The result of `toErrorFields` (absent fields are omitted, never `undefined`): the same type as
 * {@link ErrorCompositeFields}, under the name it was first exported with.
 */
export type ErrorFieldsOut = ErrorCompositeFields;
