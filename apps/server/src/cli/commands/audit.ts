import { Command, InvalidArgumentError } from 'commander';
import { existsSync, writeFileSync } from 'node:fs';
import { verifyWithDataSource } from '../../audit/audit-verifier';
import { lockDownStatements } from '../../audit/audit-lockdown';
import { CheckpointLog } from '../../audit/checkpoint-log';
import { generateSigningKeyPem, keyId, loadVerifyKey } from '../../audit/checkpoint-signing';
import { CliContext } from '../context';

function roleName(v: string): string {
  if (!/^[a-z_][a-z0-9_]{0,62}$/.test(v)) {
    throw new InvalidArgumentError('must be a PostgreSQL role name (lower case, digits, _)');
  }
  return v;
}

export class AuditVerifyFailed extends Error {
  override name = 'AuditVerifyFailed';
}

export function registerAudit(program: Command, ctx: CliContext): void {
  const audit = program
    .command('audit')
    .description('the audit trail: verify, signing key, database lock-down');
  audit
    .command('verify')
    .description(
      'verify the hash chain against the signed checkpoints; prints the result as JSON, exits 1 when broken',
    )
    .option('--full', 'walk the whole chain (default: from the newest signed checkpoint)')
    .option(
      '--public-key <file>',
      'Ed25519 public (or private) key PEM that signed the checkpoints (default: AUDIT_SIGNING_KEY_FILE)',
    )
    .option(
      '--retired-public-key <file>',
      'public key of a signing key rotated out (repeatable; default: AUDIT_RETIRED_PUBLIC_KEYS)',
      (v: string, prev: string[] = []) => [...prev, v],
    )
    .option('--checkpoints <file>', 'checkpoint file (default: AUDIT_CHECKPOINT_FILE)')
    .action(
      (opts: {
        full?: boolean;
        publicKey?: string;
        retiredPublicKey?: string[];
        checkpoints?: string;
      }) =>
        ctx.withDatabase(async (ds) => {
          const s = ctx.env().audit;
          const keyFile = opts.publicKey ?? s.signingKeyFile;
          const cpFile = opts.checkpoints ?? s.checkpointFile;
          const retired = (opts.retiredPublicKey ?? s.retiredPublicKeyFiles).map((f) =>
            loadVerifyKey(f),
          );
          let log: CheckpointLog | null = null;
          if (keyFile && cpFile) log = new CheckpointLog(cpFile, loadVerifyKey(keyFile), retired);
          else if (s.checkpointsEnabled) {
            throw new Error(
              'no checkpoint key: set AUDIT_SIGNING_KEY_FILE or pass --public-key (and --checkpoints)',
            );
          }
          const result = await verifyWithDataSource(ds, log, opts.full ? 'full' : 'incremental');
          ctx.out(JSON.stringify(result, null, 2));
          if (!result.ok) {
            throw new AuditVerifyFailed(
              `audit trail broken${result.brokenAt ? ` at sequence ${result.brokenAt}` : ''}: ${result.reason}`,
            );
          }
        }),
    );
  audit
    .command('keygen')
    .description('create the Ed25519 key that signs checkpoints (keep it off the database host)')
    .requiredOption('--out <file>', 'private key file to write (mode 0600; never overwritten)')
    .action((opts: { out: string }) => {
      if (existsSync(opts.out))
        throw new Error(`${opts.out} exists; not overwriting a signing key`);
      const { privatePem, publicPem } = generateSigningKeyPem();
      writeFileSync(opts.out, privatePem, { mode: 0o600, flag: 'wx' });
      const id = keyId(loadVerifyKey(opts.out));
      ctx.err(`wrote ${opts.out} (key ${id}); give the auditor this public key:`);
      ctx.out(publicPem.trim());
    });
  audit
    .command('lock-down')
    .description(
      'as a database superuser: hand the audit table to its own owner role and leave the app role only SELECT and INSERT',
    )
    .requiredOption(
      '--owner <role>',
      'NOLOGIN role that will own audit_entries (created if missing)',
      roleName,
    )
    .requiredOption('--app-role <role>', 'the role the server connects as', roleName)
    .option('--dry-run', 'print the SQL instead of running it')
    .action((opts: { owner: string; appRole: string; dryRun?: boolean }) =>
      ctx.withDatabase(async (ds) => {
        const sql = lockDownStatements(opts.owner, opts.appRole);
        if (opts.dryRun) {
          for (const s of sql) ctx.out(`${s};`);
          return;
        }
        await ds.transaction(async (em) => {
          for (const s of sql) await em.query(s);
        });
        ctx.err(
          `audit_entries now owned by ${opts.owner}; ${opts.appRole} may only SELECT and INSERT it (and call audit_purge)`,
        );
      }),
    );
}
