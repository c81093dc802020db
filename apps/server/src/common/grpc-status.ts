import { status as GrpcStatus, StatusObject, Metadata } from '@grpc/grpc-js';
import { DomainError } from './domain-errors';

const BY_KIND: Record<DomainError['kind'], GrpcStatus> = {
  invalid: GrpcStatus.INVALID_ARGUMENT,
  unauthenticated: GrpcStatus.UNAUTHENTICATED,
  forbidden: GrpcStatus.PERMISSION_DENIED,
  'not-found': GrpcStatus.NOT_FOUND,
  precondition: GrpcStatus.FAILED_PRECONDITION,
  'too-large': GrpcStatus.RESOURCE_EXHAUSTED,
  conflict: GrpcStatus.ABORTED,
  unavailable: GrpcStatus.UNAVAILABLE,
};

/** The one place where errors become gRPC statuses. Unknown errors are INTERNAL, details hidden. */
export function toGrpcStatus(
  err: unknown,
): Partial<StatusObject> & { code: GrpcStatus; details: string } {
  const metadata = new Metadata();
  if (err instanceof DomainError) {
    metadata.set('tidewatch-error', err.name);
    return { code: BY_KIND[err.kind], details: err.message, metadata };
  }
  return { code: GrpcStatus.INTERNAL, details: 'internal error', metadata };
}
