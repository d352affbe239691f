/**
 * The address forms a link takes (a `Source` / `Target`, an `Address`, a URL or a node name) and
 * the terminus fields of its ATTACH they give. A string is a URL or a node name as `Source.from` /
 * `Target.from` decide (link-address.ts).
 */
import type { SourceFields, TargetFields } from "../codec/definitions/messaging.js";
import type { Address } from "./address.js";
import { Source } from "./source.js";
import { Target } from "./target.js";

/** A link source: a Source, an address URL / node name, or nothing. */
export type SourceLike = Source | Address | string | undefined;
/** A link target. */
export type TargetLike = Target | Address | string | undefined;

/** The ATTACH source fields of `v` (undefined: none). */
export function toSource(v: SourceLike): SourceFields | undefined {
  if (v === undefined) return undefined;
  if (v instanceof Source) return v.toTerminus();
  if (typeof v === "string") return Source.from(v).toTerminus();
  return { address: v.wireAddress };
}

/** The ATTACH target fields of `v` (undefined: none). */
export function toTarget(v: TargetLike): TargetFields | undefined {
  if (v === undefined) return undefined;
  if (v instanceof Target) return v.toTerminus();
  if (typeof v === "string") return Target.from(v).toTerminus();
  return { address: v.wireAddress };
}
