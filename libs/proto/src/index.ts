import * as path from 'node:path';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import type { ProtoGrpcType } from './generated/ingest';

export * from './contract';
export * from './names';

/** Directory holding the .proto sources (shipped with the package). */
export const PROTO_DIR = path.resolve(__dirname, '..', 'proto');
export const INGEST_PROTO = path.join(PROTO_DIR, 'tidewatch', 'v1', 'ingest.proto');

/**
 * Options shared by both ends so that the runtime objects match the generated
 * types: camelCase fields, enums as their names, 64-bit integers as numbers
 * (per-window deltas stay far below 2^53), defaults filled in, and the
 * `body` oneof named on each message.
 */
export const LOADER_OPTIONS: protoLoader.Options = {
  keepCase: false,
  longs: Number,
  enums: String,
  defaults: true,
  oneofs: true,
};

let cached: ProtoGrpcType | undefined;

/** The tidewatch.v1 package, loaded once per process. */
export function loadTidewatchV1(): ProtoGrpcType['tidewatch']['v1'] {
  if (!cached) {
    const definition = protoLoader.loadSync(INGEST_PROTO, LOADER_OPTIONS);
    cached = grpc.loadPackageDefinition(definition) as unknown as ProtoGrpcType;
  }
  return cached.tidewatch.v1;
}
