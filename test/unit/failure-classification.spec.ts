import { FencedError } from '../../src/similarity/fenced-error';
import { blockedWriteReason, classifyFailure, databaseErrorOf, FailureKind, retriedWhileItLasts } from '../../src/similarity/failure-classification';

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
    ['too many connections', pgError('53300', 'sorry, too many clients already')],
  ])('treats %s as the database being unavailable', (_, error) => {
    expect(classifyFailure(error)).toBe('unavailable');
  });

  it.each([
    ['a missing table (schema not migrated)', pgError('42P01', 'relation "student_neighbor_pools" does not exist')],
    ['a missing column', pgError('42703', 'column "updated_at" does not exist')],
    ['a missing permission', pgError('42501', 'permission denied for table student_similarity')],
    ['a missing function or operator (extension not installed)', pgError('42883', 'operator does not exist: vector <=> vector')],
    ['SQL the schema does not accept', pgError('42601', 'syntax error at or near "FROM"')],
    ['a wrong password', pgError('28P01', 'password authentication failed for user "worker"')],
    ['a role or host pg_hba.conf rejects', pgError('28000', 'no pg_hba.conf entry for host "10.0.0.7"')],
    ['a missing database', pgError('3D000', 'database "similarity" does not exist')],
    ['a missing schema', pgError('3F000', 'schema "graph" does not exist')],
    ['a TypeORM error wrapping a missing table', Object.assign(new Error('query failed'), { driverError: pgError('42P01', 'relation "student_similarity" does not exist') })],
  ])('treats %s as blocked: the database answers but refuses the writes until someone repairs it', (_, error) => {
    expect(classifyFailure(error)).toBe('blocked');
  });

  it('treats a fenced transaction as fenced, even when a lock conflict caused it to be found late', () => {
    expect(classifyFailure(new FencedError(3, 'partition 3 is at epoch 5 (other); this worker took it at epoch 4'))).toBe('fenced');
    expect(classifyFailure(Object.assign(new FencedError(3, 'x'), { code: '40001' }))).toBe('fenced');
  });

  it('retries unavailable and blocked for as long as they last, and nothing else', () => {
    expect(['unavailable', 'blocked', 'transient', 'fenced', 'permanent'].filter((kind) => retriedWhileItLasts(kind as FailureKind))).toEqual(['unavailable', 'blocked']);
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

  it('reads the SQLSTATE and message from the layer of the error that carries them', () => {
    const wrapped = Object.assign(new Error('query failed'), { driverError: pgError('42P01', 'relation "student_similarity" does not exist') });
    expect(databaseErrorOf(wrapped)).toEqual({ sqlstate: '42P01', message: 'relation "student_similarity" does not exist' });
    expect(databaseErrorOf(Object.assign(new Error('write EPIPE'), { code: 'EPIPE' }))).toBeNull();
    expect(databaseErrorOf(new TypeError('x'))).toBeNull();
  });

  it('says what is refused and what to repair, by SQLSTATE class', () => {
    expect(blockedWriteReason('42P01', 'relation "student_similarity" does not exist')).toBe(
      'relation "student_similarity" does not exist: the graph cannot be written until the schema is repaired (run migrations / check grants)',
    );
    expect(blockedWriteReason('28P01', 'password authentication failed for user "worker"')).toMatch(/^password authentication failed for user "worker": .*credentials.*DB_URL/);
    expect(blockedWriteReason('3D000', 'database "x" does not exist')).toMatch(/database does not exist.*DB_URL/);
    expect(blockedWriteReason('3F000', 'schema "graph" does not exist')).toMatch(/schema does not exist.*migrations/);
  });
});
