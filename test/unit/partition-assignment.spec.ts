import { PartitionAssignment } from '../../src/kafka/partition-assignment';

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
