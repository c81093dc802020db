import type { CollectorPort } from '../collector/port';
import { AttachError } from '../collector/errors';
import type { AgentConfig } from '../config/schema';
import { selectInterfaces, type NetInterface } from '../interfaces/discovery';
import type { Logger } from '../logging/logger';

/** Who else keeps per-interface state: told when an interface is watched or let go. */
export interface InterfaceListener {
  watched(iface: string): void;
  unwatched(iface: string): void;
}

/**
 * The interfaces the agent watches: attaches the programs to those the
 * configuration selects as they appear, detaches from those that vanish.
 */
export class InterfaceFollower {
  readonly watched = new Set<string>();

  constructor(
    private readonly collector: CollectorPort,
    private readonly logger: Logger,
    private readonly listener: InterfaceListener,
  ) {}

  /** One pass over `all`; on the first pass an attach failure stops the agent (AttachError). */
  async follow(all: NetInterface[], config: AgentConfig, initial: boolean): Promise<void> {
    const wanted = selectInterfaces(all, {
      include: config.interfaces,
      exclude: config.excludeInterfaces,
    });
    const wantedNames = new Set(wanted.map((i) => i.name));
    for (const name of [...this.watched]) {
      if (wantedNames.has(name)) continue;
      try {
        await this.collector.detachInterface(name);
      } catch {
        // The interface is gone, and its hooks with it.
      }
      this.watched.delete(name);
      this.listener.unwatched(name);
      this.logger.info({ iface: name }, 'interface gone: detached');
    }
    for (const i of wanted) {
      if (this.watched.has(i.name)) continue;
      try {
        await this.collector.attachInterface(i.name);
        this.watched.add(i.name);
        this.listener.watched(i.name);
        this.logger.info({ iface: i.name }, 'watching interface');
      } catch (err) {
        const msg = `cannot attach to ${i.name}: ${(err as Error).message}`;
        if (initial) throw new AttachError(msg);
        this.logger.warn({ iface: i.name }, msg);
      }
    }
    if (initial && this.watched.size === 0) {
      this.logger.warn('no interface matches yet; waiting for one to appear');
    }
  }

  /** Detaches from everything (stop). */
  async detachAll(): Promise<void> {
    for (const name of [...this.watched]) {
      try {
        await this.collector.detachInterface(name);
      } catch {
        // Already gone.
      }
    }
    this.watched.clear();
  }
}
