import { Module } from '@nestjs/common';
import { Logger, LoggerModule, Params, PinoLogger } from 'nestjs-pino';
import { AppConfig } from '../config/app-config';
import { APP_CONFIG } from '../config/config.module';

/** Redacted wherever they might appear in a logged object. */
const SECRET_PATHS = ['password', '*.password', '*.*.password', 'sasl', '*.sasl', 'DB_URL', 'database.url', '*.database.url', 'req.headers.authorization'];

/** The one logger's settings: pino JSON lines on stdout at LOG_LEVEL, secrets redacted, probes not logged. */
export function loggerParams(config: Pick<AppConfig, 'logLevel'>): Params {
  return {
    pinoHttp: {
      level: config.logLevel,
      redact: { paths: SECRET_PATHS, censor: '[redacted]' },
      autoLogging: { ignore: (req) => (req.url ?? '').startsWith('/health') },
      base: { service: 'similarity-worker' },
    },
  };
}

/**
 * The same pino logger as Nest's logger before the app exists. Nest logs while it builds the
 * app: each failed attempt to reach the database (TypeORM retries inside that build) must show
 * as it happens and in the one format, which a buffer flushed after the build would not give
 * (it holds the retries until the build ends, and on a failed build flushes them through Nest's
 * console logger).
 */
export function startupLogger(config: Pick<AppConfig, 'logLevel'>): Logger {
  const params = loggerParams(config);
  return new Logger(new PinoLogger(params), params);
}

@Module({
  imports: [LoggerModule.forRootAsync({ inject: [APP_CONFIG], useFactory: loggerParams })],
})
export class LoggingModule {}
