/**
 * The request/response pattern of the `$management` and `$cbs` nodes: reading a request's
 * application properties, body and reply routing fields, and encoding the response
 * (correlation-id = the request's message-id, of the same type; status keys as the Azure services
 * send them, see `statusKeys`).
 */
import type { AMQPValue } from "../../codec/values.js";
import { addressText } from "../address.js";
import {
  encodeResponse,
  readApplicationProperties,
  readProperties,
  readValueBody,
  scanSections,
} from "../message-scan.js";
import type { NodeRequest, NodeResponse } from "../options.js";

/** A request as received, with what is needed to answer it. */
export interface ParsedRequest {
  readonly request: NodeRequest;
  readonly messageId: AMQPValue | undefined;
  readonly correlationId: AMQPValue | undefined;
  /** The reply-to address, as sent. */
  readonly replyTo: string | undefined;
}

function text(v: AMQPValue | undefined): string | undefined {
  return addressText(v);
}

/** Reads a request message addressed to `node`. */
export function parseRequest(node: string, payload: Buffer): ParsedRequest {
  const map = scanSections(payload);
  const props = map ? readProperties(payload, map) : undefined;
  const app = map ? readApplicationProperties(payload, map) : new Map<string, AMQPValue>();
  const body = map ? readValueBody(payload, map) : undefined;
  return {
    request: {
      node,
      operation: text(app.get("operation")),
      type: text(app.get("type")),
      name: text(app.get("name")),
      applicationProperties: app,
      body,
    },
    messageId: props?.messageId ?? undefined,
    correlationId: props?.correlationId ?? undefined,
    replyTo: text(props?.replyTo),
  };
}

/**
 * The application-property keys of a response's status (code, description), each code sent as an
 * int. Azure's `$cbs` answers `status-code` / `status-description` (the keys uamqp-C's cbs.c,
 * `@azure/core-amqp` and Azure's Python CBS clients read). On `$management` Event Hubs answers with
 * those keys and Service Bus with `statusCode` / `statusDescription` (what Python uamqp's
 * `mgmt_request` reads by default, and what `@azure/core-amqp` falls back to), so the broker, which
 * plays both, sends both there.
 */
function statusKeys(node: string): readonly (readonly [code: string, description: string])[] {
  if (node === "$cbs") return [["status-code", "status-description"]];
  // A Service Bus entity's own management node (`<entity>/$management`) answers as Service Bus does.
  if (node !== "$management") return [["statusCode", "statusDescription"]];
  return [
    ["status-code", "status-description"],
    ["statusCode", "statusDescription"],
  ];
}

/** Encodes the response to `parsed`. */
export function buildResponse(parsed: ParsedRequest, response: NodeResponse): Buffer {
  const description = response.statusDescription ?? defaultDescription(response.statusCode);
  const app = new Map<string, AMQPValue>();
  for (const [code, text] of statusKeys(parsed.request.node)) {
    app.set(code, response.statusCode);
    app.set(text, description);
  }
  if (response.errorCondition !== undefined) app.set("errorCondition", response.errorCondition);
  const correlationId = parsed.messageId ?? parsed.correlationId;
  return encodeResponse({
    properties: {
      ...(correlationId !== undefined ? { correlationId } : {}),
      ...(parsed.replyTo !== undefined ? { to: parsed.replyTo } : {}),
    },
    applicationProperties: app,
    body: response.body ?? null,
  });
}

function defaultDescription(code: number): string {
  switch (code) {
    case 200:
      return "OK";
    case 201:
      return "Created";
    case 202:
      return "Accepted";
    case 204:
      return "No Content";
    case 400:
      return "Bad Request";
    case 401:
      return "Unauthorized";
    case 404:
      return "Not Found";
    case 409:
      return "Conflict";
    case 500:
      return "Internal Server Error";
    case 501:
      return "Not Implemented";
    default:
      return String(code);
  }
}
