import { DomainError } from '../common/domain-errors';

/** A lifecycle step that does not apply to the anomaly's status (acknowledge a resolved one). */
export class AnomalyTransitionError extends DomainError {
  override name = 'AnomalyTransitionError';
  readonly kind = 'conflict';
}
