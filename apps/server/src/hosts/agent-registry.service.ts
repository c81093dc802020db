import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { AuditService } from '../audit/audit.service';
import {
  DomainError,
  AgentAlreadyEnrolledError,
  AgentRevokedError,
  BadAgentCredentialError,
  CertificateMismatchError,
  NotFoundError,
  UnknownAgentError,
} from '../common/domain-errors';
import { EnrollmentService } from '../enrollment/enrollment.service';
import { hashSecret, newSecret, secretMatches } from '../enrollment/secrets';
import type { NormalizedHello } from './agent-hello';
import { HostsRepository } from './hosts.repository';

/** Who asked for an administrative change (the CLI: `cli:<os user>`). */
export interface AuditActor {
  actor: string;
  source: string | null;
}

/**
 * How long after an enrollment the same token may enroll the same agent id
 * again, while the agent has not shown it holds the credential (a Hello with
 * it, or a stored window): its Welcome may have been lost.
 */
export const ENROLLMENT_RETRY_MINUTES = 10;

/** NOTIFY channel: payload = an agent id whose credential was reset or revoked. */
export const AGENT_ACCESS_CHANNEL = 'tidewatch_agent_access';

export interface AdmittedAgent {
  agentId: string;
  /** The database's time of the admission (compared with a later reset or revocation). */
  admittedAt: Date;
  highestSequence: number;
  /** Set only when the agent was (re-)enrolled in this Hello. */
  newCredential: string | null;
}

/** Who may stream: enrollment, per-agent credentials, revocation. */
@Injectable()
export class AgentRegistryService {
  constructor(
    private readonly ds: DataSource,
    private readonly hosts: HostsRepository,
    private readonly enrollment: EnrollmentService,
    private readonly audit: AuditService,
  ) {}

  /**
   * Admits the agent named in Hello: with a credential, checks it; with an
   * enrollment token, consumes a use and issues a credential — for an agent id
   * never seen, or one an administrator reset (`agents reset`); an enrolled
   * agent id is never taken over with a token alone. With mutual TLS, a client certificate that names the
   * agent (`certificateAgentId`) is its identity instead: no token is used,
   * no credential checked or issued. Records what the Hello says about the
   * host either way.
   */
  async admit(
    hello: NormalizedHello,
    certificateAgentId: string | null = null,
    peer: string | null = null,
  ): Promise<AdmittedAgent> {
    try {
      return await this.admitted(hello, certificateAgentId, peer);
    } catch (err) {
      if (err instanceof AgentAlreadyEnrolledError) {
        // An attempt on another host's identity: on the record, whoever tried it.
        await this.audit.record({
          actor: `agent:${hello.agentId}`,
          source: peer,
          action: 'agent.enroll',
          target: hello.agentId,
          outcome: 'denied',
          reason: 'agent id already enrolled; enrollment token refused',
          details: { hostname: hello.hostname },
        });
      } else if (
        err instanceof DomainError &&
        (err.kind === 'unauthenticated' || err.kind === 'forbidden')
      ) {
        // Bad or revoked credential, unknown agent, bad token, certificate mismatch.
        await this.audit.record({
          actor: `agent:${hello.agentId}`,
          source: peer,
          action: 'agent.connect',
          target: hello.agentId,
          outcome: 'denied',
          reason: err.message,
          details: { hostname: hello.hostname, error: err.name },
        });
      }
      throw err;
    }
  }

  private async admitted(
    hello: NormalizedHello,
    certificateAgentId: string | null,
    peer: string | null,
  ): Promise<AdmittedAgent> {
    if (certificateAgentId !== null && certificateAgentId !== hello.agentId) {
      throw new CertificateMismatchError(
        `client certificate names agent ${certificateAgentId}, Hello names ${hello.agentId}`,
      );
    }
    return this.ds.transaction(async (em) => {
      const existing = await this.hosts.lockForAdmission(
        em,
        hello.agentId,
        ENROLLMENT_RETRY_MINUTES,
      );
      if (existing?.revoked) throw new AgentRevokedError(`agent ${hello.agentId} has been revoked`);
      let newCredential: string | null = null;
      let tokenId: string | null = null;
      let retry = false;
      if (certificateAgentId !== null) {
        // Authenticated by the certificate the TLS handshake verified.
      } else if (hello.agentCredential && existing) {
        if (!secretMatches(hello.agentCredential, existing.credential_hash)) {
          throw new BadAgentCredentialError(
            `agent credential does not match agent ${hello.agentId}`,
          );
        }
      } else if (
        hello.enrollmentToken &&
        existing &&
        !existing.reset &&
        existing.retry_open &&
        existing.enrollment_token_id !== null &&
        (await this.enrollment.isToken(em, hello.enrollmentToken, existing.enrollment_token_id))
      ) {
        // The agent never showed it received the credential it was issued
        // (its Welcome lost): the token that enrolled it may do so again,
        // without a use, and the unreceived credential is replaced.
        retry = true;
        tokenId = existing.enrollment_token_id;
        newCredential = newSecret('twa');
      } else if (hello.enrollmentToken) {
        // Checked before the token is used: a refused takeover costs the token nothing.
        if (existing && !existing.reset) {
          throw new AgentAlreadyEnrolledError(
            `agent ${hello.agentId} is already enrolled: connect with its credential, or have an administrator run \`tidewatch-server agents reset ${hello.agentId}\` before enrolling it again`,
          );
        }
        tokenId = await this.enrollment.consume(em, hello.enrollmentToken);
        newCredential = newSecret('twa');
      } else {
        throw new UnknownAgentError(
          `agent ${hello.agentId} is not enrolled; enroll it with a token`,
        );
      }
      const admission = await this.hosts.recordHello(
        em,
        hello,
        newCredential ? hashSecret(newCredential) : null,
        tokenId,
      );
      let highestSequence = admission.highestSequence;
      // The agent's bounded spool dropped batches it never delivered: record them as
      // lost and take the stream from the oldest one it still holds.
      if (hello.oldestSequence > highestSequence + 1) {
        const first = highestSequence + 1;
        const last = hello.oldestSequence - 1;
        await this.hosts.recordLostBatches(em, hello.agentId, first, last);
        highestSequence = last;
        await this.audit.recordIn(em, {
          actor: `agent:${hello.agentId}`,
          source: peer,
          action: 'agent.spool_overflow',
          target: hello.agentId,
          outcome: 'failure',
          reason: `the agent's spool dropped ${last - first + 1} batch(es) it never delivered`,
          details: { firstLostSequence: first, lastLostSequence: last },
        });
      }
      // Last in the transaction (the trail's writer lock is held until it commits).
      if (newCredential) {
        await this.audit.recordIn(em, {
          actor: `agent:${hello.agentId}`,
          source: peer,
          action: 'agent.enrolled',
          target: hello.agentId,
          outcome: 'success',
          details: {
            hostname: hello.hostname,
            enrollmentTokenId: tokenId,
            reenrolled: !!existing && !retry,
            // The same token again: the first answer never reached the agent.
            retried: retry,
          },
        });
      }
      await this.audit.recordIn(em, {
        actor: `agent:${hello.agentId}`,
        source: peer,
        action: 'agent.connected',
        target: hello.agentId,
        outcome: 'success',
        details: {
          hostname: hello.hostname,
          agentVersion: hello.agentVersion,
          highestSequence,
          authenticatedBy:
            certificateAgentId !== null
              ? 'certificate'
              : newCredential
                ? 'enrollment-token'
                : 'credential',
        },
      });
      return {
        agentId: hello.agentId,
        admittedAt: admission.admittedAt,
        highestSequence,
        newCredential,
      };
    });
  }

  /**
   * Lets the agent id be enrolled again with a token (a reinstalled host whose
   * state directory, and so its credential, is gone): erases the credential,
   * lifts a revocation, keeps the agent's data and sequence numbers (the agent
   * renumbers its windows after them). The next token enrollment claims it.
   */
  async reset(agentId: string, actor: AuditActor): Promise<void> {
    // The open streams, admitted on the credential this erases, end at commit (see accessEnded).
    // Before: a stream on a reset credential kept streaming until it reconnected.
    await this.ds.transaction(async (em) => {
      if (!(await this.hosts.allowReenrollment(em, agentId)))
        throw new NotFoundError(`no agent with id ${agentId}`);
      // Every replica ends the streams admitted on the erased credential (at commit).
      await em.query('SELECT pg_notify($1, $2)', [AGENT_ACCESS_CHANNEL, agentId]);
      // In the same transaction: no reset without its audit entry (fail closed).
      await this.audit.recordIn(em, {
        ...actor,
        action: 'agent.reset',
        target: agentId,
        outcome: 'success',
      });
    });
  }

  /**
   * Revokes an agent: its credential is erased and its open streams end at once
   * (NOTIFY; the next batch is refused in any case).
   */
  async revoke(
    agentId: string,
    actor: AuditActor = { actor: 'server', source: null },
  ): Promise<void> {
    await this.ds.transaction(async (em) => {
      if (!(await this.hosts.revoke(em, agentId)))
        throw new NotFoundError(`no live agent with id ${agentId}`);
      await em.query('SELECT pg_notify($1, $2)', [AGENT_ACCESS_CHANNEL, agentId]);
      // In the same transaction: no revocation without its audit entry (fail closed).
      await this.audit.recordIn(em, {
        ...actor,
        action: 'agent.revoked',
        target: agentId,
        outcome: 'success',
      });
    });
  }

  /**
   * Of the given agent ids, which were reset or revoked after `admittedAt` of
   * their stream: the streams of those end (PERMISSION_DENIED). The database's
   * clock on both sides, so a stream admitted after the reset is left alone.
   */
  async accessEnded(streams: { agentId: string; admittedAt: Date }[]): Promise<Set<number>> {
    if (!streams.length) return new Set();
    return this.hosts.accessEnded(streams);
  }
}
