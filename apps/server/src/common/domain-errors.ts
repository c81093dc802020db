// Domain errors: thrown by services, translated once into gRPC statuses
// (common/grpc-status.ts) and HTTP answers (common/http-exception.filter.ts).

export abstract class DomainError extends Error {
  abstract readonly kind:
    | 'invalid'
    | 'unauthenticated'
    | 'forbidden'
    | 'not-found'
    | 'precondition'
    | 'too-large'
    | 'conflict'
    | 'unavailable';
}

/** Input that can never be right (bad field, bad enum, bad window). */
export class InvalidInputError extends DomainError {
  override name = 'InvalidInputError';
  readonly kind = 'invalid';
}

/** Malformed bytes on the wire. */
export class MalformedMessageError extends DomainError {
  override name = 'MalformedMessageError';
  readonly kind = 'invalid';
}

export class BadEnrollmentTokenError extends DomainError {
  override name = 'BadEnrollmentTokenError';
  readonly kind = 'unauthenticated';
}

export class BadAgentCredentialError extends DomainError {
  override name = 'BadAgentCredentialError';
  readonly kind = 'unauthenticated';
}

export class UnknownAgentError extends DomainError {
  override name = 'UnknownAgentError';
  readonly kind = 'unauthenticated';
}

export class AgentRevokedError extends DomainError {
  override name = 'AgentRevokedError';
  readonly kind = 'forbidden';
}

/** An enrollment token presented for an agent id that is already enrolled (and not reset). */
export class AgentAlreadyEnrolledError extends DomainError {
  override name = 'AgentAlreadyEnrolledError';
  readonly kind = 'forbidden';
}

/** The client certificate names another agent than the one speaking. */
export class CertificateMismatchError extends DomainError {
  override name = 'CertificateMismatchError';
  readonly kind = 'forbidden';
}

export class NotFoundError extends DomainError {
  override name = 'NotFoundError';
  readonly kind = 'not-found';
}

/** Protocol order violated: batch before Hello, second Hello, sequence gap. */
export class ProtocolOrderError extends DomainError {
  override name = 'ProtocolOrderError';
  readonly kind = 'precondition';
}

export class SequenceGapError extends DomainError {
  override name = 'SequenceGapError';
  readonly kind = 'precondition';
}

export class BatchTooLargeError extends DomainError {
  override name = 'BatchTooLargeError';
  readonly kind = 'too-large';
}

/** Another stream for the same agent took over. */
export class StreamSupersededError extends DomainError {
  override name = 'StreamSupersededError';
  readonly kind = 'conflict';
}

/** The store is down or the server is shutting down; retry later. */
export class StoreUnavailableError extends DomainError {
  override name = 'StoreUnavailableError';
  readonly kind = 'unavailable';
}
