import { defineComposite } from "../composite.js";

/** `amqp:error:list` (0x1d): details of an error. */
export const ErrorComposite = defineComposite({
  name: "error",
  code: 0x1d,
  symbol: "amqp:error:list",
  fields: [
    { key: "condition", type: "symbol", mandatory: true },
    { key: "description", type: "string" },
    { key: "info", type: "fields" },
  ],
} as const);
