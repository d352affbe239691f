/**
 * Message sections → bytes, in the order the spec requires: header, delivery-annotations,
 * message-annotations, properties, application-properties, body sections, footer. Absent or empty
 * sections are left out (a header object that is present is always written).
 */
import { encodeValue, writeList } from "../codec/encoder.js";
import { writeBinary } from "../codec/scalar-writers.js";
import { FormatCode as F } from "../codec/format-codes.js";
import { SectionCode } from "../codec/definitions/messaging.js";
import { EncodeError } from "../errors/decode-error.js";
import type { ByteWriter } from "../util/byte-writer.js";
import {
  mapEmpty,
  writeAnnotations,
  writeApplicationProperties,
  type AnnotationsMap,
  type ApplicationProperties,
} from "./annotations.js";
import type { MessageBody } from "./body.js";
import { writeHeader, type MessageHeader } from "./header.js";
import { propertiesEmpty, writeProperties, type MessageProperties } from "./properties.js";

/** Descriptor codes of the message sections (defined once, with the section composites). */
export const Section = SectionCode;

/** Everything a message encodes. */
export interface MessageSections {
  readonly header?: MessageHeader | undefined;
  readonly deliveryAnnotations?: AnnotationsMap | undefined;
  readonly messageAnnotations?: AnnotationsMap | undefined;
  readonly properties?: MessageProperties | undefined;
  readonly applicationProperties?: ApplicationProperties | undefined;
  readonly body: MessageBody;
  readonly footer?: AnnotationsMap | undefined;
}

/** The encoded size of a Data section holding `n` bytes (descriptor + vbin8/vbin32 framing + bytes). */
export function dataSectionSize(n: number): number {
  return 3 + (n < 256 ? 2 : 5) + n;
}

function writeDescriptor(w: ByteWriter, code: number): void {
  w.u8u8(F.Described, F.SmallUlong);
  w.u8(code);
}

/**
 * A body as the encoder takes it: a `MessageBody`, or the bytes of a Data body's only section (what
 * a `Message` built from a string or bytes holds until its `body` is asked for).
 */
export type EncodableBody = MessageBody | Uint8Array;

/** `s` as a Data section's bytes. @throws {EncodeError} when it is not a `Uint8Array`. */
function dataSection(s: unknown): Uint8Array {
  if (!(s instanceof Uint8Array)) throw new EncodeError("a Data section must be a Uint8Array");
  return s;
}

function writeDataSection(w: ByteWriter, s: Uint8Array): void {
  w.ensure(8 + s.length);
  writeDescriptor(w, Section.Data);
  writeBinary(w, s);
}

/** Writes the body sections. */
export function writeBody(w: ByteWriter, body: EncodableBody): void {
  if (body instanceof Uint8Array) {
    writeDataSection(w, body);
    return;
  }
  switch (body.type) {
    case "data":
      for (const s of body.sections) writeDataSection(w, dataSection(s));
      return;
    case "sequence":
      for (const s of body.sections) {
        if (!Array.isArray(s)) throw new EncodeError("an AmqpSequence section must be an array");
        writeDescriptor(w, Section.AmqpSequence);
        writeList(w, s);
      }
      return;
    case "value":
      writeDescriptor(w, Section.AmqpValue);
      encodeValue(w, body.value);
      return;
  }
}

/**
 * Writes all sections of a message, its body given as `body` (by default `s.body`).
 * `fallbackApplicationProperties` is used when the message has no (or empty) application properties
 * (batch messages).
 */
export function writeSections(
  w: ByteWriter,
  s: MessageSections,
  fallbackApplicationProperties?: ApplicationProperties,
  body: EncodableBody = s.body,
): void {
  writeLeadingSections(w, s, fallbackApplicationProperties);
  writeBody(w, body);
  const footer = s.footer;
  if (footer && !mapEmpty(footer)) writeAnnotations(w, Section.Footer, footer);
}

/**
 * The size of what {@link writeSections} writes, checked as it checks (an `EncodeError` for what
 * cannot be encoded). `w` is scratch space: every section but Data is encoded into it; Data
 * sections, the bulk of most messages, are counted without being copied. `mark.bodyAt` is set to
 * where they go among the bytes written (see {@link writeSized}).
 */
export function sectionsSize(
  w: ByteWriter,
  s: MessageSections,
  body: EncodableBody,
  mark?: { bodyAt: number },
): number {
  const start = w.pos;
  writeLeadingSections(w, s, undefined);
  if (mark !== undefined) mark.bodyAt = w.pos - start;
  let data = 0;
  if (body instanceof Uint8Array) data = dataSectionSize(body.length);
  else if (body.type === "data") {
    for (const d of body.sections) data += dataSectionSize(dataSection(d).length);
  } else writeBody(w, body);
  const footer = s.footer;
  if (footer && !mapEmpty(footer)) writeAnnotations(w, Section.Footer, footer);
  return w.pos - start + data;
}

/**
 * Writes what {@link writeSections} would, from what {@link sectionsSize} left in `scratch[0, end)`
 * for the same sections (unchanged since): those bytes with the Data sections, which it counted
 * without writing, put back at `bodyAt`. Copying the bytes is cheaper than encoding them again.
 */
export function writeSized(
  w: ByteWriter,
  body: EncodableBody,
  scratch: Buffer,
  bodyAt: number,
  end: number,
): void {
  w.copyRange(scratch, 0, bodyAt);
  if (body instanceof Uint8Array || body.type === "data") writeBody(w, body);
  w.copyRange(scratch, bodyAt, end);
}

/**
 * What {@link writeSections} writes, as pieces in order: each Data section of at least `minView`
 * bytes is the message's own array (a view, not copied), everything between them is encoded with
 * `w` (scratch space, reset first) and copied into a small buffer of its own. For a large message
 * this saves copying its body into the frame buffer, and out of it again (the sending layer writes
 * the big pieces to the transport as they are). The pieces hold the message's arrays by reference.
 */
export function sectionPieces(
  w: ByteWriter,
  s: MessageSections,
  body: EncodableBody,
  minView: number,
): Uint8Array[] {
  const pieces: Uint8Array[] = [];
  w.reset();
  writeLeadingSections(w, s, undefined);
  if (body instanceof Uint8Array) dataPiece(w, pieces, body, minView);
  else if (body.type === "data") for (const d of body.sections) dataPiece(w, pieces, dataSection(d), minView);
  else writeBody(w, body);
  const footer = s.footer;
  if (footer && !mapEmpty(footer)) writeAnnotations(w, Section.Footer, footer);
  if (w.pos > 0) pieces.push(w.toBuffer());
  w.reset();
  return pieces;
}

/** One Data section among `pieces` (see {@link sectionPieces}). */
function dataPiece(w: ByteWriter, pieces: Uint8Array[], d: Uint8Array, minView: number): void {
  if (d.length < minView) {
    writeDataSection(w, d);
    return;
  }
  // The section's descriptor and binary head (as writeBinary writes them), then its bytes as they are.
  w.ensure(8);
  writeDescriptor(w, Section.Data);
  if (d.length < 256) w.u8u8(F.Vbin8, d.length);
  else {
    w.u8(F.Vbin32);
    w.u32(d.length);
  }
  pieces.push(w.toBuffer());
  w.reset();
  pieces.push(d);
}

/** The sections before the body. */
function writeLeadingSections(
  w: ByteWriter,
  s: MessageSections,
  fallbackApplicationProperties: ApplicationProperties | undefined,
): void {
  const { header, deliveryAnnotations, messageAnnotations, properties } = s;
  if (header) writeHeader(w, header);
  if (deliveryAnnotations && !mapEmpty(deliveryAnnotations)) {
    writeAnnotations(w, Section.DeliveryAnnotations, deliveryAnnotations);
  }
  if (messageAnnotations && !mapEmpty(messageAnnotations)) {
    writeAnnotations(w, Section.MessageAnnotations, messageAnnotations);
  }
  if (properties && !propertiesEmpty(properties)) writeProperties(w, properties);
  let app = s.applicationProperties;
  if (!app || mapEmpty(app)) app = fallbackApplicationProperties;
  if (app && !mapEmpty(app)) writeApplicationProperties(w, app);
}
