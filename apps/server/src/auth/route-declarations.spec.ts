import { Controller, Get, Module } from '@nestjs/common';
import { DiscoveryModule } from '@nestjs/core';
import { WsAdapter } from '@nestjs/platform-ws';
import { Test } from '@nestjs/testing';
import { SubscribeMessage, WebSocketGateway } from '@nestjs/websockets';
import { Public } from './public.decorator';
import { RouteDeclarationCheck } from './route-declaration.check';
import { Roles } from './roles.decorator';

@Controller('things')
class MixedController {
  @Get()
  @Roles('viewer')
  list() {
    return [];
  }

  @Get('forgotten')
  forgotten() {
    return 'nobody declared me';
  }
}

@Public()
@Controller('open')
class OpenController {
  @Get()
  open() {
    return 'ok';
  }
}

@WebSocketGateway({ path: '/x' })
class BareGateway {
  @SubscribeMessage('hello')
  hello() {
    return 'hi';
  }
}

async function boot(controllers: unknown[], providers: unknown[] = []) {
  @Module({
    imports: [DiscoveryModule],
    controllers: controllers as never[],
    providers: [RouteDeclarationCheck, ...(providers as never[])],
  })
  class M {}
  const moduleRef = await Test.createTestingModule({ imports: [M] }).compile();
  const app = moduleRef.createNestApplication({ logger: false, abortOnError: false });
  app.useWebSocketAdapter(new WsAdapter(app));
  try {
    await app.init();
  } finally {
    await app.close();
  }
}

describe('the boot check (deny by default)', () => {
  it('refuses to start while a route declares neither @Roles nor @Public, naming it', async () => {
    await expect(boot([MixedController, OpenController])).rejects.toThrow(
      /1 route\(s\) declare neither @Roles\(\.\.\.\) nor @Public\(\): GET things\/forgotten$/,
    );
  });

  it('checks live-feed message handlers too', async () => {
    await expect(boot([OpenController], [BareGateway])).rejects.toThrow(/ws hello/);
  });

  it('starts when every route declares', async () => {
    await expect(boot([OpenController])).resolves.toBeUndefined();
  });
});
