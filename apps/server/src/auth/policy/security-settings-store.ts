import type { DataSource, EntityManager } from 'typeorm';

/** NOTIFY channel: payload = the setting's name; every replica reloads it. */
export const SECURITY_SETTINGS_CHANNEL = 'tidewatch_security_settings';

export type SecuritySettingName = 'sign_in_policy' | 'ldap_group_roles';

export interface StoredSetting {
  value: unknown;
  updatedAt: Date;
  updatedBy: string;
}

/** The security_settings table: one row per setting, absent until first changed. */
export class SecuritySettingsStore {
  constructor(private readonly ds: DataSource) {}

  async read(
    name: SecuritySettingName,
    m: EntityManager = this.ds.manager,
    lock = false,
  ): Promise<StoredSetting | null> {
    const rows: { value: unknown; updated_at: Date; updated_by: string }[] = await m.query(
      `SELECT value, updated_at, updated_by FROM security_settings WHERE name = $1${lock ? ' FOR UPDATE' : ''}`,
      [name],
    );
    return rows.length
      ? { value: rows[0].value, updatedAt: rows[0].updated_at, updatedBy: rows[0].updated_by }
      : null;
  }

  /** Writes the setting and announces it, in the caller's transaction (after `lock`). */
  async write(
    m: EntityManager,
    name: SecuritySettingName,
    value: unknown,
    by: string,
  ): Promise<Date> {
    const rows: { updated_at: Date }[] = await m.query(
      `INSERT INTO security_settings (name, value, updated_at, updated_by)
       VALUES ($1, $2, now(), $3)
       ON CONFLICT (name) DO UPDATE SET value = EXCLUDED.value, updated_at = now(),
                                        updated_by = EXCLUDED.updated_by
       RETURNING updated_at`,
      [name, JSON.stringify(value), by],
    );
    await m.query('SELECT pg_notify($1, $2)', [SECURITY_SETTINGS_CHANNEL, name]);
    return rows[0].updated_at;
  }

  /** Serializes changes of one setting (also its first, when no row exists yet). */
  async lock(m: EntityManager, name: SecuritySettingName): Promise<void> {
    await m.query(`SELECT pg_advisory_xact_lock(hashtext('security_settings:' || $1))`, [name]);
  }
}
