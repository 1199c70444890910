import { Global, Module } from '@nestjs/common';
import { ConfigModule, ConfigService } from '@nestjs/config';
import { AdminConfig, AppConfig, loadAdminConfig, loadConfig } from './app-config';

/** Injection token of the validated, typed configuration. */
export const APP_CONFIG = Symbol('APP_CONFIG');

@Global()
@Module({
  imports: [ConfigModule.forRoot({ isGlobal: true, ignoreEnvFile: process.env.NODE_ENV === 'test', cache: true })],
  providers: [
    {
      provide: APP_CONFIG,
      inject: [ConfigService],
      // ConfigService already merged .env and process.env; validation happens here, once.
      useFactory: (): AppConfig => loadConfig(process.env),
    },
  ],
  exports: [APP_CONFIG],
})
export class AppConfigModule {}

/**
 * APP_CONFIG without the Kafka settings, for the admin commands that never use Kafka: providers
 * they reach must read only the AdminConfig part of it.
 */
@Global()
@Module({
  imports: [ConfigModule.forRoot({ isGlobal: true, ignoreEnvFile: process.env.NODE_ENV === 'test', cache: true })],
  providers: [{ provide: APP_CONFIG, inject: [ConfigService], useFactory: (): AdminConfig => loadAdminConfig(process.env) }],
  exports: [APP_CONFIG],
})
export class AdminConfigModule {}
