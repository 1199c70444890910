import 'reflect-metadata';
import { Logger } from 'nestjs-pino';
import { configFromEnvironment, ConfigValidationError, loadConfig } from './config/app-config';
import { createApp, startApp } from './bootstrap';
import { ConsumerStatus } from './kafka/consumer-status';

/** Exit code when the Kafka consumer stopped for good: the orchestrator starts a fresh process. */
const CONSUMER_FAILED_EXIT_CODE = 3;

async function main(): Promise<void> {
  // Built once, before anything connects; a bad one stops here with every bad variable named.
  const config = configFromEnvironment(loadConfig);
  const app = await createApp(config);
  // kafkajs does not restart a consumer after a non-retriable error (say, an offset commit after
  // the group evicted this member): a process without a consumer must not linger as a zombie.
  app.get(ConsumerStatus).onFailure((reason) => {
    app.get(Logger).fatal(`the Kafka consumer stopped for good (${reason}); exiting with code ${CONSUMER_FAILED_EXIT_CODE} so the worker is restarted`);
    const deadline = setTimeout(() => process.exit(CONSUMER_FAILED_EXIT_CODE), config.shutdownTimeoutMs + 5000);
    deadline.unref();
    void app.close().finally(() => process.exit(CONSUMER_FAILED_EXIT_CODE));
  });
  await startApp(app);
}

main().catch((error) => {
  console.error(error instanceof ConfigValidationError ? error.message : error);
  process.exit(1);
});
