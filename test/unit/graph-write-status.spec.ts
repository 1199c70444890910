import { GraphWriteStatus } from '../../src/similarity/graph-write-status';

const missingTable = { sqlstate: '42P01', reason: 'relation "student_similarity" does not exist: repair the schema' };
const revokedGrant = { sqlstate: '42501', reason: 'permission denied for table student_similarity: check grants' };

describe('GraphWriteStatus', () => {
  it('is clear until a batch is refused, blocked from then on, and clear again once that batch settles', () => {
    const status = new GraphWriteStatus();
    const batch = {};
    expect(status.current()).toBeNull();
    expect(status.refused(batch, missingTable)).toBe('blocked');
    expect(status.current()).toEqual({ ...missingTable, since: expect.any(Number) });
    expect(status.settled(batch)).toBe('cleared');
    expect(status.current()).toBeNull();
  });

  it('reports a repeated refusal as unchanged and keeps the time the block started', () => {
    const status = new GraphWriteStatus();
    const batch = {};
    status.refused(batch, missingTable);
    const since = status.current()!.since;
    expect(status.refused(batch, missingTable)).toBe('unchanged');
    expect(status.refused({}, missingTable)).toBe('unchanged');
    expect(status.current()!.since).toBe(since);
  });

  it('reports a different fault as a change, and shows the one met last', () => {
    const status = new GraphWriteStatus();
    const batch = {};
    status.refused(batch, missingTable);
    expect(status.refused(batch, revokedGrant)).toBe('fault-changed');
    expect(status.current()).toMatchObject(revokedGrant);
  });

  it('stays blocked while any refused batch is still waiting, whatever the others do', () => {
    const status = new GraphWriteStatus();
    const first = {};
    const second = {};
    status.refused(first, missingTable);
    status.refused(second, missingTable);
    expect(status.settled(first)).toBe('unchanged');
    expect(status.current()).toMatchObject(missingTable);
    expect(status.settled({})).toBe('unchanged');
    expect(status.current()).toMatchObject(missingTable);
    expect(status.settled(second)).toBe('cleared');
    expect(status.current()).toBeNull();
  });

  it('shows the fault of a batch still waiting once the batch whose fault it showed settles', () => {
    const status = new GraphWriteStatus();
    const waiting = {};
    const settling = {};
    status.refused(waiting, missingTable);
    status.refused(settling, revokedGrant);
    expect(status.settled(settling)).toBe('fault-changed');
    expect(status.current()).toMatchObject(missingTable);
  });

  it('starts a new block, with a new start time, after one cleared', () => {
    const status = new GraphWriteStatus();
    const now = jest.spyOn(Date, 'now');
    try {
      now.mockReturnValue(1_000);
      const first = {};
      status.refused(first, missingTable);
      status.settled(first);
      now.mockReturnValue(5_000);
      expect(status.refused({}, revokedGrant)).toBe('blocked');
      expect(status.current()).toEqual({ ...revokedGrant, since: 5_000 });
    } finally {
      now.mockRestore();
    }
  });
});
