// A refused or failed call as the gateway describes it: the gRPC status, and the
// google.rpc details it packs into the grpc-status-details-bin trailer.
import { Metadata, ServiceError, status } from "@grpc/grpc-js";
import { BadRequest_FieldViolation, BadRequest, ErrorInfo, RetryInfo } from "./generated/google/rpc/error_details";
import { Status } from "./generated/google/rpc/status";

const STATUS_DETAILS_KEY = "grpc-status-details-bin";

/** What Graph said, when the error comes from Graph (or the gateway's call to it). */
export interface GraphFailure {
  /** Graph's error code, e.g. "RestoreSessionNotFound". */
  code: string;
  httpStatus: number;
  /** Graph's request-id and client-request-id: what Microsoft support asks for. */
  requestId: string;
  clientRequestId: string;
  /** Graph may have applied the change: check before sending it again. */
  mayHaveApplied: boolean;
}

/** A call that did not succeed, with the gateway's reason and what to do next. */
export class GraphRestoreError extends Error {
  /** The gRPC status code, e.g. status.PERMISSION_DENIED. */
  readonly code: status;
  /** Its name, e.g. "PERMISSION_DENIED". */
  readonly codeName: string;
  /** ErrorInfo: why, in one word ("DESTINATION_TYPE_NOT_ALLOWED"), and whose word it is
   * ("graphrestore" for the gateway, "graph.microsoft.com" for Graph). */
  readonly reason: string;
  readonly domain: string;
  readonly metadata: Readonly<Record<string, string>>;
  /** RetryInfo: wait this long before trying again; undefined when a retry will not help. */
  readonly retryDelayMs: number | undefined;
  /** BadRequest: the fields of the request that were refused, and why. */
  readonly fieldViolations: readonly BadRequest_FieldViolation[];
  /** Graph's own account of the failure, when Graph took part. */
  readonly graph: GraphFailure | undefined;
  /** The trailers the gateway sent. */
  readonly trailers: Metadata;

  constructor(error: ServiceError) {
    super(error.details || error.message);
    this.name = "GraphRestoreError";
    this.cause = error;
    this.code = error.code;
    this.codeName = status[error.code] ?? String(error.code);
    this.trailers = error.metadata ?? new Metadata();
    const details = statusDetails(this.trailers);
    const info = details.errorInfo;
    this.reason = info?.reason ?? "";
    this.domain = info?.domain ?? "";
    this.metadata = info?.metadata ?? {};
    this.retryDelayMs = details.retryInfo?.retryDelay && durationMs(details.retryInfo.retryDelay);
    this.fieldViolations = details.badRequest?.fieldViolations ?? [];
    this.graph = "graph_code" in this.metadata ? graphFailure(this.metadata) : undefined;
  }
}

interface StatusDetails {
  errorInfo?: ErrorInfo;
  retryInfo?: RetryInfo;
  badRequest?: BadRequest;
}

function statusDetails(trailers: Metadata): StatusDetails {
  const [packed] = trailers.get(STATUS_DETAILS_KEY);
  if (!(packed instanceof Buffer)) return {};
  const found: StatusDetails = {};
  for (const detail of Status.decode(packed).details) {
    // type.googleapis.com/google.rpc.ErrorInfo: the full name after the last slash.
    const typeName = detail.typeUrl.slice(detail.typeUrl.lastIndexOf("/") + 1);
    if (typeName === "google.rpc.ErrorInfo") found.errorInfo = ErrorInfo.decode(detail.value);
    else if (typeName === "google.rpc.RetryInfo") found.retryInfo = RetryInfo.decode(detail.value);
    else if (typeName === "google.rpc.BadRequest") found.badRequest = BadRequest.decode(detail.value);
  }
  return found;
}

function durationMs(duration: { seconds: number; nanos: number }): number {
  return duration.seconds * 1000 + duration.nanos / 1e6;
}

function graphFailure(metadata: Record<string, string>): GraphFailure {
  return {
    code: metadata.graph_code,
    httpStatus: Number(metadata.http_status),
    requestId: metadata.request_id ?? "",
    clientRequestId: metadata.client_request_id ?? "",
    mayHaveApplied: metadata.may_have_applied === "true",
  };
}
