import { getTranslations } from 'next-intl/server';
import { Link } from '../i18n/navigation';

/** The agent configuration pages: the layers and the drift table. */
export async function AgentConfigNav({ current }: { current: 'layers' | 'drift' | 'host' }) {
  const t = await getTranslations('admin.agentConfig');
  return (
    <nav className="toolbar" aria-label={t('pages')}>
      <Link
        href="/admin/agent-config"
        aria-current={current === 'layers' ? 'true' : undefined}
        data-testid="agent-config-layers-link"
      >
        {t('layersPage')}
      </Link>
      <Link
        href="/admin/agent-config/drift"
        aria-current={current === 'drift' ? 'true' : undefined}
        data-testid="agent-config-drift-link"
      >
        {t('driftPage')}
      </Link>
    </nav>
  );
}
