/** Composite types of AMQP 1.0 part 5 (security.xml): the SASL frames. */
import { defineComposite } from "../composite.js";

/** `amqp:sasl-mechanisms:list` (0x40): mechanisms the server offers. */
export const SaslMechanisms = defineComposite({
  name: "sasl-mechanisms",
  code: 0x40,
  symbol: "amqp:sasl-mechanisms:list",
  fields: [{ key: "saslServerMechanisms", type: "symbol", multiple: true, mandatory: true }],
} as const);

/** `amqp:sasl-init:list` (0x41): the chosen mechanism and initial response. */
export const SaslInit = defineComposite({
  name: "sasl-init",
  code: 0x41,
  symbol: "amqp:sasl-init:list",
  fields: [
    { key: "mechanism", type: "symbol", mandatory: true },
    { key: "initialResponse", type: "binary" },
    { key: "hostname", type: "string" },
  ],
} as const);

/** `amqp:sasl-challenge:list` (0x42). */
export const SaslChallenge = defineComposite({
  name: "sasl-challenge",
  code: 0x42,
  symbol: "amqp:sasl-challenge:list",
  fields: [{ key: "challenge", type: "binary", mandatory: true }],
} as const);

/** `amqp:sasl-response:list` (0x43). */
export const SaslResponse = defineComposite({
  name: "sasl-response",
  code: 0x43,
  symbol: "amqp:sasl-response:list",
  fields: [{ key: "response", type: "binary", mandatory: true }],
} as const);

/** `amqp:sasl-outcome:list` (0x44): 0 ok, 1 auth, 2 sys, 3 sys-perm, 4 sys-temp. */
export const SaslOutcome = defineComposite({
  name: "sasl-outcome",
  code: 0x44,
  symbol: "amqp:sasl-outcome:list",
  fields: [
    { key: "code", type: "ubyte", mandatory: true },
    { key: "additionalData", type: "binary" },
  ],
} as const);
