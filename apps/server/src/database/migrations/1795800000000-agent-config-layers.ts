import { MigrationInterface, QueryRunner } from 'typeorm';

// Configuration layers: the fleet-wide default, per-label overrides (with a priority) and
// each host's own override, every field nullable (null = inherit from the layer below).
// agent_configs stays what the server sends each agent: the merged result and its version.
// Existing operator configurations become full host overrides, so no agent's version moves
// (an unspecified masking, the default, is inherited: a fleet or label masking may reach it).
export class AgentConfigLayers1795800000000 implements MigrationInterface {
  name = 'AgentConfigLayers1795800000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE TABLE agent_config_layers (
      id bigserial PRIMARY KEY,
      scope text NOT NULL CHECK (scope IN ('fleet', 'label', 'host')),
      label_key text,
      label_value text,
      agent_id uuid REFERENCES hosts (agent_id) ON DELETE CASCADE,
      priority integer NOT NULL DEFAULT 0,
      version bigint NOT NULL DEFAULT 1,
      window_seconds integer,
      top_n integer,
      port_allowlist integer[],
      masking text,
      max_flows_per_window integer,
      cpu_budget_percent double precision,
      updated_at timestamptz NOT NULL DEFAULT now(),
      CHECK ((scope = 'label') = (label_key IS NOT NULL AND label_value IS NOT NULL)),
      CHECK ((scope = 'host') = (agent_id IS NOT NULL))
    )`);
    await q.query(
      `CREATE UNIQUE INDEX agent_config_layers_fleet ON agent_config_layers ((1)) WHERE scope = 'fleet'`,
    );
    await q.query(
      `CREATE UNIQUE INDEX agent_config_layers_label ON agent_config_layers (label_key, label_value)
        WHERE scope = 'label'`,
    );
    await q.query(
      `CREATE UNIQUE INDEX agent_config_layers_host ON agent_config_layers (agent_id)
        WHERE scope = 'host'`,
    );
    await q.query(`INSERT INTO agent_config_layers (scope, agent_id, version, window_seconds, top_n,
                     port_allowlist, masking, max_flows_per_window, cpu_budget_percent, updated_at)
                   SELECT 'host', agent_id, version, window_seconds, top_n, port_allowlist,
                          NULLIF(masking, 'MASKING_UNSPECIFIED'), max_flows_per_window,
                          cpu_budget_percent, updated_at
                     FROM agent_configs`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE agent_config_layers`);
  }
}
