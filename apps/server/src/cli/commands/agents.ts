import { Command, InvalidArgumentError } from 'commander';
import { userInfo } from 'node:os';
import type { DataSource } from 'typeorm';
import { AuditService } from '../../audit/audit.service';
import { ConfigurationService } from '../../config/configuration.service';
import { EnrollmentService } from '../../enrollment/enrollment.service';
import { AgentRegistryService } from '../../hosts/agent-registry.service';
import { HostsRepository } from '../../hosts/hosts.repository';
import { CliContext } from '../context';

function uuid(v: string): string {
  if (!/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(v)) {
    throw new InvalidArgumentError('agent id must be a UUID');
  }
  return v.toLowerCase();
}

function registry(ds: DataSource, ctx: CliContext): AgentRegistryService {
  const config = new ConfigurationService(ctx.env());
  const audit = new AuditService(ds, config);
  return new AgentRegistryService(
    ds,
    new HostsRepository(ds, config),
    new EnrollmentService(ds),
    audit,
  );
}

/** The operator at the terminal, as the audit trail names them. */
export function cliActor(): { actor: string; source: string } {
  let user = 'unknown';
  try {
    user = userInfo().username;
  } catch {
    // no passwd entry for this uid (containers): keep "unknown"
  }
  return { actor: `cli:${user}`, source: 'cli' };
}

export function registerAgents(program: Command, ctx: CliContext): void {
  const agents = program.command('agents').description('enrolled agents');
  agents
    .command('revoke')
    .description("revoke an agent's credential; its streams end at their next batch")
    .argument('<agent-id>', 'the agent UUID', uuid)
    .action((agentId: string) =>
      ctx.withDatabase(async (ds) => {
        await registry(ds, ctx).revoke(agentId, cliActor());
        ctx.out(`revoked agent ${agentId}`);
      }),
    );
  agents
    .command('reset')
    .description(
      'let a reinstalled agent (credential lost) enroll again under its id with an enrollment token; ' +
        'erases its credential and lifts a revocation, keeps its data',
    )
    .argument('<agent-id>', 'the agent UUID', uuid)
    .action((agentId: string) =>
      ctx.withDatabase(async (ds) => {
        await registry(ds, ctx).reset(agentId, cliActor());
        ctx.out(`reset agent ${agentId}: its next enrollment token enrolls it again`);
      }),
    );
}
