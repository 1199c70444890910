import { Module } from '@nestjs/common';
import { LoggerModule } from 'nestjs-pino';
import { AppConfig } from '../config/app-config';
import { APP_CONFIG } from '../config/config.module';

/** Redacted wherever they might appear in a logged object. */
const SECRET_PATHS = ['password', '*.password', '*.*.password', 'sasl', '*.sasl', 'DB_URL', 'database.url', '*.database.url', 'req.headers.authorization'];

@Module({
  imports: [
    LoggerModule.forRootAsync({
      inject: [APP_CONFIG],
      useFactory: (config: AppConfig) => ({
        pinoHttp: {
          level: config.logLevel,
          redact: { paths: SECRET_PATHS, censor: '[redacted]' },
          autoLogging: { ignore: (req) => (req.url ?? '').startsWith('/health') },
          base: { service: 'similarity-worker' },
        },
      }),
    }),
  ],
})
export class LoggingModule {}
