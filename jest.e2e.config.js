/** End-to-end tests: the real app against the real PostgreSQL+pgvector and Kafka of scripts/services. */
module.exports = {
  testEnvironment: 'node',
  transform: { '^.+\\.ts$': 'ts-jest' },
  testMatch: ['<rootDir>/test/e2e/**/*.e2e-spec.ts'],
  testTimeout: 120000,
  setupFiles: ['<rootDir>/test/support/test-env.ts'],
};
