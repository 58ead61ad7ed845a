// @graphrestore/client: importing it only defines things; nothing runs, nothing connects.
export { connect } from "./client";
export type { CallOptions, DeepPartial, GraphRestoreClient, ServiceClient } from "./client";
export { mtlsCredentials, tokenFileCredentials } from "./credentials";
export type { MtlsFiles, TokenFile } from "./credentials";
export { GraphRestoreError } from "./errors";
export type { GraphFailure } from "./errors";
// The API's messages, enums and service definitions, generated from protos/.
export * from "./generated/graphrestore/v1/browse_session";
export * from "./generated/graphrestore/v1/exchange_restore_service";
export * from "./generated/graphrestore/v1/onedrive_restore_service";
export * from "./generated/graphrestore/v1/restore_session";
export * from "./generated/graphrestore/v1/sharepoint_restore_service";
