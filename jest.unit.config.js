/** Unit tests: pure logic, no servers. */
module.exports = {
  testEnvironment: 'node',
  transform: { '^.+\\.ts$': 'ts-jest' },
  testMatch: ['<rootDir>/test/unit/**/*.spec.ts'],
};
