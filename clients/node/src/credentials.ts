// Channel credentials for the gateway's two ways of knowing a caller: a client
// certificate (GRAPHRESTORE_AUTH=mtls) or a bearer token (GRAPHRESTORE_AUTH=jwt).
import { readFileSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { ChannelCredentials, credentials, Metadata } from "@grpc/grpc-js";

/** PEM files of a caller with a client certificate. */
export interface MtlsFiles {
  /** The CA that signed the gateway's certificate. */
  caFile: string;
  /** The caller's certificate and its key. */
  certFile: string;
  keyFile: string;
}

/** TLS with the caller's certificate: the files are read once, here. */
export function mtlsCredentials(files: MtlsFiles): ChannelCredentials {
  return credentials.createSsl(
    readFileSync(files.caFile),
    readFileSync(files.keyFile),
    readFileSync(files.certFile),
  );
}

/** Where a caller's bearer token is, and whom to trust for the gateway's certificate. */
export interface TokenFile {
  /** A file holding the token (a JWT), which something else renews in place. */
  tokenFile: string;
  /** The CA of the gateway's certificate; the system's roots when left out. */
  caFile?: string;
}

/**
 * TLS, and `authorization: Bearer <token>` on every call. The file is read again for
 * each call, so a token renewed on disk (a projected service-account token, an agent
 * writing Entra tokens) is used without reconnecting.
 */
export function tokenFileCredentials(files: TokenFile): ChannelCredentials {
  const bearer = credentials.createFromMetadataGenerator((_params, callback) => {
    readFile(files.tokenFile, "utf8").then(
      (token) => {
        const metadata = new Metadata();
        metadata.set("authorization", `Bearer ${token.trim()}`);
        callback(null, metadata);
      },
      (error: Error) => callback(error),
    );
  });
  const tls = credentials.createSsl(files.caFile ? readFileSync(files.caFile) : null);
  return credentials.combineChannelCredentials(tls, bearer);
}
