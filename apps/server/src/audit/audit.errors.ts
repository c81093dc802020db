import { DomainError } from '../common/domain-errors';

/**
 * The trail could not be written (database down, table refused the insert, …).
 * It becomes HTTP 503 (and gRPC UNAVAILABLE): the action it was to record does not happen.
 */
export class AuditUnavailableError extends DomainError {
  override name = 'AuditUnavailableError';
  readonly kind = 'unavailable';
}
