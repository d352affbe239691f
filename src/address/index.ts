export {
  Address,
  type AddressConstructor,
  type AddressCredentials,
  type AddressEndpoint,
  type AddressOptions,
} from "./address.js";
export { InvalidAddressError, type InvalidAddressReason } from "./address-error.js";
export {
  EventHubFilters,
  SELECTOR_FILTER_CODE,
  STRING_FILTER,
  type EnqueuedTimeFilterOptions,
  type EventHubFilterOptions,
  type FilterDescriptor,
  type FilterValue,
  type SetFilterOptions,
} from "./filters.js";
export { Source } from "./source.js";
export { Target } from "./target.js";
export {
  DEFAULT_PORTS,
  TERMINUS_EXPIRY_POLICIES,
  TerminusDurability,
  type AddressScheme,
  type DistributionMode,
  type TerminusExpiryPolicy,
} from "./terminus-types.js";
export type { SourceLike, TargetLike } from "./termini.js";
