import { DynamicModule, Global, Module } from '@nestjs/common';
import { ConfigModule } from '@nestjs/config';
import { AdminConfig } from './app-config';

/**
 * Injection token of the validated, typed configuration. The worker provides the whole AppConfig,
 * the CLI only AdminConfig: a provider that both build injects a Pick of AdminConfig, so it cannot
 * name a setting the CLI lacks.
 */
export const APP_CONFIG = Symbol('APP_CONFIG');

/**
 * Hands the process's one config object (built once from the environment by main.ts or the CLI,
 * or by a test from its own settings) to every provider, as APP_CONFIG; ConfigService serves the
 * same object to modules that extend the service.
 */
@Global()
@Module({})
export class AppConfigModule {
  static forRoot(config: AdminConfig): DynamicModule {
    return {
      module: AppConfigModule,
      imports: [ConfigModule.forRoot({ isGlobal: true, ignoreEnvFile: true, load: [() => ({ ...config })] })],
      providers: [{ provide: APP_CONFIG, useValue: config }],
      exports: [APP_CONFIG],
    };
  }
}
