export {
  MgmtOperation,
  ErrorResponse,
  type MgmtResponse,
  type ManagementSession,
  type MgmtStatusOptions,
  type MgmtOperationOptions,
  type MgmtRequestOptions,
  type ExecuteOptions,
} from "./mgmt-operation.js";
export type { RequestSession } from "./request-response.js";
export type { TokenConnection } from "./cbs-authenticator.js";
