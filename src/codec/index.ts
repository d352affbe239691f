export { encode, decode, decodeAt } from "./codec.js";
export { amqpEquals } from "./equals.js";
export { wrap, unwrap } from "./wrap.js";
export { Decoder, MAX_NESTING_DEPTH } from "./decoder.js";
export type { DecoderCursor } from "./decoder-cursor.js";
export { encodeValue } from "./encoder.js";
export { FormatCode } from "./format-codes.js";
export * from "./values.js";
