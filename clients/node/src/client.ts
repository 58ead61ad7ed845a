// One channel to the gateway, and a promise per call: each service's methods as its
// generated definition describes them (request and response codecs, streaming or not).
import { ChannelCredentials, ChannelOptions, Client, ClientReadableStream, Metadata, ServiceError } from "@grpc/grpc-js";
import { ExchangeRestoreServiceDefinition } from "./generated/graphrestore/v1/exchange_restore_service";
import { OneDriveRestoreServiceDefinition } from "./generated/graphrestore/v1/onedrive_restore_service";
import { SharePointRestoreServiceDefinition } from "./generated/graphrestore/v1/sharepoint_restore_service";
import { GraphRestoreError } from "./errors";

/** A message with every field optional, as the generated `fromPartial` takes it. */
export type DeepPartial<T> = T extends Date | Uint8Array | string | number | boolean | undefined
  ? T
  : T extends ReadonlyArray<infer U>
    ? ReadonlyArray<DeepPartial<U>>
    : T extends object
      ? { [K in keyof T]?: DeepPartial<T[K]> }
      : T;

/** Per call: when to give up, and metadata to send beside the request. */
export interface CallOptions {
  deadline?: Date;
  metadata?: Metadata;
}

interface Codec<T> {
  encode(message: T): { finish(): Uint8Array };
  decode(input: Uint8Array): T;
  // Generic in the generated code; called with a DeepPartial<T> only.
  fromPartial(object: never): T;
}

interface MethodDefinition {
  name: string;
  requestType: Codec<unknown>;
  responseType: Codec<unknown>;
  responseStream: boolean;
}

interface ServiceDefinition {
  fullName: string;
  methods: Record<string, MethodDefinition>;
}

/** A service's methods: a unary call is a promise, a server stream an async iterable;
 * a failure is a GraphRestoreError either way. */
export type ServiceClient<S extends ServiceDefinition> = {
  [K in keyof S["methods"]]: S["methods"][K] extends {
    requestType: Codec<infer Request>;
    responseType: Codec<infer Response>;
    responseStream: true;
  }
    ? (request: DeepPartial<Request>, options?: CallOptions) => AsyncIterable<Response>
    : S["methods"][K] extends { requestType: Codec<infer Request>; responseType: Codec<infer Response> }
      ? (request: DeepPartial<Request>, options?: CallOptions) => Promise<Response>
      : never;
};

/** The gateway's three services over one channel. */
export interface GraphRestoreClient {
  onedrive: ServiceClient<typeof OneDriveRestoreServiceDefinition>;
  sharepoint: ServiceClient<typeof SharePointRestoreServiceDefinition>;
  exchange: ServiceClient<typeof ExchangeRestoreServiceDefinition>;
  /** Closes the channel; calls in flight are cancelled. */
  close(): void;
}

/** A client of the gateway at `address` (host:port), e.g. with mtlsCredentials(...). */
export function connect(
  address: string,
  credentials: ChannelCredentials,
  options: ChannelOptions = {},
): GraphRestoreClient {
  const channel = new Client(address, credentials, options);
  return {
    onedrive: serviceClient(channel, OneDriveRestoreServiceDefinition),
    sharepoint: serviceClient(channel, SharePointRestoreServiceDefinition),
    exchange: serviceClient(channel, ExchangeRestoreServiceDefinition),
    close: () => channel.close(),
  };
}

function serviceClient<S extends ServiceDefinition>(channel: Client, service: S): ServiceClient<S> {
  const methods: Record<string, unknown> = {};
  for (const [key, method] of Object.entries(service.methods)) {
    const path = `/${service.fullName}/${method.name}`;
    const serialize = (message: unknown) => Buffer.from(method.requestType.encode(message).finish());
    const deserialize = (bytes: Buffer) => method.responseType.decode(bytes);
    methods[key] = (request: object, options: CallOptions = {}) => {
      const message = method.requestType.fromPartial(request as never);
      const metadata = options.metadata ?? new Metadata();
      const callOptions = { deadline: options.deadline };
      if (method.responseStream) {
        return streamed(
          channel.makeServerStreamRequest(path, serialize, deserialize, message, metadata, callOptions),
        );
      }
      return new Promise((resolve, reject) => {
        channel.makeUnaryRequest(path, serialize, deserialize, message, metadata, callOptions, (error, response) =>
          error ? reject(new GraphRestoreError(error)) : resolve(response),
        );
      });
    };
  }
  return methods as ServiceClient<S>;
}

async function* streamed<T>(call: ClientReadableStream<T>): AsyncGenerator<T> {
  try {
    for await (const message of call) yield message as T;
  } catch (error) {
    throw new GraphRestoreError(error as ServiceError);
  } finally {
    call.cancel(); // the caller stopped reading: the gateway stops watching
  }
}
