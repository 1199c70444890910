import { DynamicModule, Global, Module } from '@nestjs/common';
import { ConfigModule } from '@nestjs/config';
import { AdminConfig, AppConfig } from './app-config';

/** Injection token of the validated, typed configuration. */
export const APP_CONFIG = Symbol('APP_CONFIG');

/**
 * Hands the process's one config object (built once from the environment by main.ts or the CLI,
 * or by a test from its own settings) to every provider, as APP_CONFIG; ConfigService serves the
 * same object to modules that extend the service.
 */
@Global()
@Module({})
export class AppConfigModule {
  static forRoot(config: AppConfig | AdminConfig): DynamicModule {
    return {
      module: AppConfigModule,
      imports: [ConfigModule.forRoot({ isGlobal: true, ignoreEnvFile: true, load: [() => ({ ...config })] })],
      providers: [{ provide: APP_CONFIG, useValue: config }],
      exports: [APP_CONFIG],
    };
  }
}
