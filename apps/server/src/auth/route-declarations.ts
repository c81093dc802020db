import { RequestMethod } from '@nestjs/common';
import { METHOD_METADATA, PATH_METADATA } from '@nestjs/common/constants';
import { DiscoveryService, MetadataScanner, Reflector } from '@nestjs/core';
import { MESSAGE_MAPPING_METADATA, MESSAGE_METADATA } from '@nestjs/websockets/constants';
import { IS_PUBLIC } from './public.decorator';
import type { Role } from './roles';
import { ROLES_KEY } from './roles.decorator';

/** One HTTP route or live-feed message handler, with what it declares. */
export interface DeclaredRoute {
  kind: 'http' | 'ws';
  /** `GET hosts/:agentId` (controller path + method path, without the global prefix) or `ws subscribe`. */
  name: string;
  method: string;
  path: string;
  isPublic: boolean;
  roles: Role[] | null;
}

/** Every controller route and gateway message handler of the running app, from Nest's own metadata. */
export function declaredRoutes(
  discovery: DiscoveryService,
  scanner: MetadataScanner,
  reflector: Reflector,
): DeclaredRoute[] {
  const out: DeclaredRoute[] = [];
  const wrappers = [...discovery.getControllers(), ...discovery.getProviders()];
  const seen = new Set<unknown>();
  for (const w of wrappers) {
    const instance = w.instance as Record<string, unknown> | undefined;
    if (!instance || typeof instance !== 'object' || !w.metatype || seen.has(w.metatype)) continue;
    seen.add(w.metatype);
    const proto = Object.getPrototypeOf(instance) as Record<string, (...a: unknown[]) => unknown>;
    const isController = discovery.getControllers().includes(w);
    const base = isController
      ? ([reflector.get<string | string[]>(PATH_METADATA, w.metatype)].flat()[0] ?? '')
      : '';
    for (const methodName of scanner.getAllMethodNames(proto)) {
      const handler = proto[methodName];
      const targets = [handler, w.metatype];
      const isPublic = reflector.getAllAndOverride<boolean>(IS_PUBLIC, targets) ?? false;
      const roles = reflector.getAllAndOverride<Role[] | undefined>(ROLES_KEY, targets) ?? null;
      if (isController) {
        const routePath = reflector.get<string | string[] | undefined>(PATH_METADATA, handler);
        if (routePath === undefined) continue;
        const method = RequestMethod[reflector.get<RequestMethod>(METHOD_METADATA, handler)];
        for (const p of [routePath].flat()) {
          const path = [base, p]
            .map((s) => s.replace(/^\/+|\/+$/g, ''))
            .filter(Boolean)
            .join('/');
          out.push({ kind: 'http', name: `${method} ${path}`, method, path, isPublic, roles });
        }
      } else {
        const message = reflector.get<string | undefined>(MESSAGE_METADATA, handler);
        const isMessage =
          reflector.get<boolean | undefined>(MESSAGE_MAPPING_METADATA, handler) === true;
        if (!isMessage || message === undefined) continue;
        out.push({
          kind: 'ws',
          name: `ws ${message}`,
          method: 'WS',
          path: message,
          isPublic,
          roles,
        });
      }
    }
  }
  return out;
}

export class UndeclaredRoutesError extends Error {
  override name = 'UndeclaredRoutesError';
}

/** Deny by default, checked at boot: every route declares @Roles(…) or @Public(). */
export function assertRoutesDeclared(routes: DeclaredRoute[]): void {
  const missing = routes.filter((r) => !r.isPublic && (!r.roles || r.roles.length === 0));
  if (missing.length) {
    throw new UndeclaredRoutesError(
      `refusing to start: ${missing.length} route(s) declare neither @Roles(...) nor @Public(): ` +
        missing.map((r) => r.name).join(', '),
    );
  }
}
