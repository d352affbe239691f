export { FrameReader, FrameType, type FrameSink } from "./frame-reader.js";
export { FramingError } from "./framing-error.js";
export {
  beginFrame,
  endFrame,
  writeCompositeFrame,
  writeEmptyFrame,
  writeTransferPerformative,
  type TransferHead,
} from "./frame-writer.js";
export * from "./performatives.js";
export {
  ProtocolId,
  protocolHeader,
  parseProtocolHeader,
  isVersion10,
  type ProtocolHeader,
} from "./protocol-header.js";
