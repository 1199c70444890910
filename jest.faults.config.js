/** The fault suite: real services restarted, workers killed; prints a table (see README). */
module.exports = {
  testEnvironment: 'node',
  transform: { '^.+\\.ts$': 'ts-jest' },
  testMatch: ['<rootDir>/test/faults/**/*.fault-spec.ts'],
  testTimeout: 600000,
  setupFiles: ['<rootDir>/test/support/test-env.ts'],
};
