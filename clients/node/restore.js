#!/usr/bin/env node
// A Node.js caller of graphrestore: it reads protos/ as they are (@grpc/proto-loader),
// calls CreateRestoreSession over mTLS with @grpc/grpc-js, and on a refusal reads the
// google.rpc.ErrorInfo the gateway puts in the status details.
//
//   node restore.js --address HOST:PORT --ca CA.pem --cert ME.pem --key ME-key.pem \
//        --restore-point ID [--restore-point ID...] --destination new|inPlace
//
// Prints one JSON line: the session, or {code, message, errorInfo}. Exit 0 or 1.
'use strict';

const crypto = require('crypto');
const fs = require('fs');
const path = require('path');
const grpc = require('@grpc/grpc-js');
const protoLoader = require('@grpc/proto-loader');
const protobuf = require('protobufjs');
const googleProtos = require('google-proto-files');

const PROTOS = path.resolve(__dirname, '..', '..', 'protos');
const GOOGLE_PROTOS = path.dirname(googleProtos.getProtoPath());
const DESTINATIONS = { new: 'DESTINATION_TYPE_NEW', inPlace: 'DESTINATION_TYPE_IN_PLACE' };

function parseArguments(argv) {
  const options = { restorePoints: [] };
  for (let i = 0; i < argv.length; i += 2) {
    const [name, value] = [argv[i], argv[i + 1]];
    if (value === undefined) throw new Error(`${name} needs a value`);
    if (name === '--restore-point') options.restorePoints.push(value);
    else options[name.replace(/^--/, '')] = value;
  }
  for (const required of ['address', 'ca', 'cert', 'key', 'destination']) {
    if (!options[required]) throw new Error(`--${required} is required`);
  }
  if (!DESTINATIONS[options.destination]) throw new Error('--destination is new or inPlace');
  return options;
}

function restoreService() {
  const definition = protoLoader.loadSync('graphrestore/v1/onedrive_restore_service.proto', {
    includeDirs: [PROTOS, GOOGLE_PROTOS],
    keepCase: true,
    enums: String,
    longs: String,
    defaults: false,
  });
  return grpc.loadPackageDefinition(definition).graphrestore.v1.OneDriveRestoreService;
}

// google.rpc.Status from the grpc-status-details-bin trailer, with its ErrorInfo.
function errorInfo(error) {
  const [details] = error.metadata ? error.metadata.get('grpc-status-details-bin') : [];
  if (!details) return null;
  const root = new protobuf.Root();
  root.resolvePath = (origin, target) => path.join(GOOGLE_PROTOS, target);
  root.loadSync(['google/rpc/status.proto', 'google/rpc/error_details.proto']);
  const status = root.lookupType('google.rpc.Status').decode(details);
  const infoType = root.lookupType('google.rpc.ErrorInfo');
  const packed = status.details.find((any) => any.type_url.endsWith('/google.rpc.ErrorInfo'));
  return packed ? infoType.toObject(infoType.decode(packed.value)) : null;
}

function main() {
  const options = parseArguments(process.argv.slice(2));
  const credentials = grpc.credentials.createSsl(
    fs.readFileSync(options.ca),
    fs.readFileSync(options.key),
    fs.readFileSync(options.cert),
  );
  const client = new (restoreService())(options.address, credentials);
  const request = {
    restore_session: {
      drive_restore_artifacts: options.restorePoints.map((id) => ({
        restore_point: { id },
        destination_type: DESTINATIONS[options.destination],
      })),
    },
    request_id: crypto.randomUUID(),
  };
  const deadline = new Date(Date.now() + 20000);
  client.CreateRestoreSession(request, { deadline }, (error, session) => {
    if (error) {
      console.log(
        JSON.stringify({
          code: grpc.status[error.code],
          message: error.details,
          errorInfo: errorInfo(error),
        }),
      );
      process.exitCode = 1;
    } else {
      console.log(JSON.stringify(session));
    }
    client.close();
  });
}

main();
