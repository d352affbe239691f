/** Converts the user's address forms to the terminus fields of an ATTACH. */
import type { SourceFields, TargetFields } from "../codec/definitions/messaging.js";
import { Source, Target, type Address } from "../address/index.js";

/** A link source: a Source, an address URL / node name, or nothing. */
export type SourceLike = Source | Address | string | undefined;
/** A link target. */
export type TargetLike = Target | Address | string | undefined;

export function toSource(v: SourceLike): SourceFields | undefined {
  if (v === undefined) return undefined;
  if (v instanceof Source) return v.toTerminus();
  if (typeof v === "string") return Source.from(v).toTerminus();
  return { address: v.wireAddress };
}

export function toTarget(v: TargetLike): TargetFields | undefined {
  if (v === undefined) return undefined;
  if (v instanceof Target) return v.toTerminus();
  if (typeof v === "string") return Target.from(v).toTerminus();
  return { address: v.wireAddress };
}
