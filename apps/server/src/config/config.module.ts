import { DynamicModule, Module } from '@nestjs/common';
import { ConfigurationService } from './configuration.service';
import { Environment } from './environment';

@Module({})
export class ConfigModule {
  /** Global on purpose: the validated environment is needed by every module. */
  static forRoot(env: Environment): DynamicModule {
    return {
      module: ConfigModule,
      global: true,
      providers: [{ provide: ConfigurationService, useValue: new ConfigurationService(env) }],
      exports: [ConfigurationService],
    };
  }
}
