import { status } from '@grpc/grpc-js';
import {
  AgentRevokedError,
  BadEnrollmentTokenError,
  BatchTooLargeError,
  InvalidInputError,
  MalformedMessageError,
  SequenceGapError,
  StoreUnavailableError,
  UnknownAgentError,
} from './domain-errors';
import { toGrpcStatus } from './grpc-status';

describe('toGrpcStatus', () => {
  it.each([
    [new InvalidInputError('x'), status.INVALID_ARGUMENT],
    [new MalformedMessageError('x'), status.INVALID_ARGUMENT],
    [new BadEnrollmentTokenError('x'), status.UNAUTHENTICATED],
    [new UnknownAgentError('x'), status.UNAUTHENTICATED],
    [new AgentRevokedError('x'), status.PERMISSION_DENIED],
    [new SequenceGapError('x'), status.FAILED_PRECONDITION],
    [new BatchTooLargeError('x'), status.RESOURCE_EXHAUSTED],
    [new StoreUnavailableError('x'), status.UNAVAILABLE],
  ])('%s', (err, code) => {
    const st = toGrpcStatus(err);
    expect(st.code).toBe(code);
    expect(st.details).toBe('x');
    expect(st.metadata?.get('tidewatch-error')).toEqual([err.name]);
  });

  it('hides the details of unexpected errors', () => {
    expect(toGrpcStatus(new Error('password=hunter2'))).toMatchObject({
      code: status.INTERNAL,
      details: 'internal error',
    });
  });
});
