import { KafkaConfig, SASLOptions } from 'kafkajs';
import { AppConfig } from '../config/app-config';

/** The one place kafkajs client options (brokers, TLS, SASL, timeouts) are built from config. */
export function kafkaClientOptions(config: AppConfig['kafka'], clientIdSuffix = ''): KafkaConfig {
  return {
    clientId: `${config.clientId}${clientIdSuffix}`,
    brokers: config.brokers,
    ssl: config.ssl,
    sasl: config.sasl as SASLOptions | undefined,
    connectionTimeout: 3000,
    requestTimeout: 30000,
    retry: { initialRetryTime: 300, retries: 8 },
  };
}
