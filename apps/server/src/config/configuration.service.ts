import { Injectable } from '@nestjs/common';
import { Environment, parseEnvironment } from './environment';

/** Typed, validated settings; parsed once when the service is created. */
@Injectable()
export class ConfigurationService {
  private readonly env: Environment;

  constructor(env?: Environment) {
    this.env = env ?? parseEnvironment();
  }

  get<K extends keyof Environment>(key: K): Environment[K] {
    return this.env[key];
  }

  /** The whole set, for code that needs several settings at once. */
  all(): Readonly<Environment> {
    return this.env;
  }
}
