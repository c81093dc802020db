import { Injectable, OnApplicationBootstrap } from '@nestjs/common';
import { DiscoveryService, MetadataScanner, Reflector } from '@nestjs/core';
import { assertRoutesDeclared, declaredRoutes } from './route-declarations';

/** Refuses to start (the boot fails) when a route or live-feed handler declares no access. */
@Injectable()
export class RouteDeclarationCheck implements OnApplicationBootstrap {
  constructor(
    private readonly discovery: DiscoveryService,
    private readonly scanner: MetadataScanner,
    private readonly reflector: Reflector,
  ) {}

  onApplicationBootstrap(): void {
    assertRoutesDeclared(declaredRoutes(this.discovery, this.scanner, this.reflector));
  }
}
