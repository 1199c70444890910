import { PartitionAssignment } from '../../src/kafka/partition-assignment';
import { PartitionOwnership } from '../../src/similarity/partition-ownership';

describe('PartitionAssignment', () => {
  it('runs the listeners of a join before settled() resolves', async () => {
    const assignment = new PartitionAssignment();
    const taken: number[][] = [];
    assignment.onAssigned(async ({ partitions }) => {
      taken.push(partitions);
    });
    assignment.assigned('m1', [2, 0], 3);
    await assignment.settled();
    expect(taken).toEqual([[0, 2]]);
    expect(assignment.latest()).toEqual({ memberId: 'm1', partitions: [0, 2], partitionCount: 3 });
  });

  it('runs a failed take-over again for the latest join when a batch waits on it', async () => {
    const assignment = new PartitionAssignment();
    let calls = 0;
    assignment.onAssigned(async () => {
      calls += 1;
      if (calls === 1) throw new Error('database away');
    });
    assignment.assigned('m1', [0], 1);
    await assignment.settled();
    expect(calls).toBe(2);
    await assignment.settled();
    expect(calls).toBe(2);
  });

  it('rejects settled() when the take-over fails again', async () => {
    const assignment = new PartitionAssignment();
    assignment.onAssigned(async () => {
      throw new Error('database away');
    });
    assignment.assigned('m1', [0], 1);
    await expect(assignment.settled()).rejects.toThrow('database away');
  });

  it('leaves no unhandled rejection when a take-over fails with no batch waiting', async () => {
    const unhandled: unknown[] = [];
    const record = (reason: unknown) => unhandled.push(reason);
    process.on('unhandledRejection', record);
    try {
      const assignment = new PartitionAssignment();
      assignment.onAssigned(async () => {
        throw new Error('connection terminated');
      });
      assignment.assigned('m1', [0], 1);
      assignment.assigned('m1', [0, 1], 2);
      await new Promise((resolve) => setImmediate(resolve));
      await new Promise((resolve) => setImmediate(resolve));
      expect(unhandled).toEqual([]);
    } finally {
      process.off('unhandledRejection', record);
    }
  });
});

describe('PartitionOwnership.inTurn', () => {
  const ownership = () => {
    const assignment = new PartitionAssignment();
    const metrics = { partitionTurnWait: { observe: () => undefined } };
    const logger = { setContext: () => undefined };
    return new PartitionOwnership(assignment, {} as never, {} as never, metrics as never, logger as never);
  };

  it("runs a partition's batches one after another, another partition's beside them, and a failed batch does not block the next", async () => {
    const owner = ownership();
    const log: string[] = [];
    let releaseFirst!: () => void;
    const first = owner.inTurn(0, async () => {
      log.push('p0 first starts');
      await new Promise<void>((resolve) => (releaseFirst = resolve));
      log.push('p0 first ends');
      throw new Error('batch failed');
    });
    const second = owner.inTurn(0, async () => {
      log.push('p0 second runs');
      return 'second';
    });
    const other = owner.inTurn(1, async () => {
      log.push('p1 runs');
      return 'other';
    });
    await expect(other).resolves.toBe('other');
    expect(log).toEqual(['p0 first starts', 'p1 runs']);
    releaseFirst();
    await expect(first).rejects.toThrow('batch failed');
    await expect(second).resolves.toBe('second');
    expect(log).toEqual(['p0 first starts', 'p1 runs', 'p0 first ends', 'p0 second runs']);
  });
});
