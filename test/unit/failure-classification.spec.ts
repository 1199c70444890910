import { classifyFailure } from '../../src/similarity/failure-classification';

const pgError = (code: string, message = 'x') => Object.assign(new Error(message), { code });

describe('classifyFailure', () => {
  it.each([
    ['a refused connection', Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' })],
    ['an administrator shutdown', pgError('57P01', 'terminating connection due to administrator command')],
    ['the database starting up', pgError('57P03', 'the database system is starting up')],
    ['a connection exception class', pgError('08006')],
    ['a dropped connection', new Error('Connection terminated unexpectedly')],
    ['a pool that cannot connect', new Error('timeout exceeded when trying to connect')],
    ['a TypeORM error wrapping a driver error', Object.assign(new Error('query failed'), { driverError: pgError('57P01') })],
    ['a missing table (schema not migrated)', pgError('42P01', 'relation "student_neighbor_pools" does not exist')],
    ['a missing permission', pgError('42501', 'permission denied for table student_similarity')],
  ])('treats %s as the database being unavailable', (_, error) => {
    expect(classifyFailure(error)).toBe('unavailable');
  });

  it.each([
    ['a serialization failure', pgError('40001')],
    ['a deadlock', pgError('40P01')],
    ['a lock timeout', pgError('55P03')],
    ['a statement timeout', pgError('57014')],
  ])('treats %s as transient', (_, error) => {
    expect(classifyFailure(error)).toBe('transient');
  });

  it.each([
    ['a dimension mismatch', pgError('22000', 'different vector dimensions 384 and 12')],
    ['a programming error', new TypeError('cannot read properties of undefined')],
    ['a thrown string', 'boom'],
  ])('treats %s as permanent', (_, error) => {
    expect(classifyFailure(error)).toBe('permanent');
  });
});
