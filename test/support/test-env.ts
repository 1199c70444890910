// Points the app at the local services that scripts/services/start.sh runs (overridable).
process.env.NODE_ENV = 'test';
process.env.TEST_PG_ADMIN_URL ??= `postgres://postgres@127.0.0.1:${process.env.LOCAL_PG_PORT ?? 54329}/postgres`;
process.env.KAFKA_BROKERS ??= `127.0.0.1:${process.env.LOCAL_KAFKA_PORT ?? 39092}`;
process.env.LOG_LEVEL ??= 'warn';
