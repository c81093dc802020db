import { CanActivate, ExecutionContext, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { IS_PUBLIC } from './public.decorator';

/**
 * The one guard every HTTP route passes through (registered as APP_GUARD).
 *
 * AUTH NOT IMPLEMENTED YET: users, sessions and roles arrive in a later
 * issue. Until then this guard lets every request through — it is the slot
 * where authentication and role checks go, so that no controller changes.
 * Routes marked @Public() must stay open after that change.
 */
@Injectable()
export class AccessGuard implements CanActivate {
  constructor(private readonly reflector: Reflector) {}

  canActivate(context: ExecutionContext): boolean {
    const isPublic = this.reflector.getAllAndOverride<boolean>(IS_PUBLIC, [
      context.getHandler(),
      context.getClass(),
    ]);
    if (isPublic) return true;
    return true; // TODO(auth issue): authenticate and check roles here.
  }
}
