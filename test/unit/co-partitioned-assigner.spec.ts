import { AssignerProtocol, Cluster, GroupMember, Logger } from 'kafkajs';
import { coPartitionedAssigner, decodeOwnedPartitions, encodeOwnedPartitions, previousOwners } from '../../src/kafka/co-partitioned-assigner';

const TOPICS = ['events', 'events.repairs'];

/** A cluster that knows only partition counts: all the assigner asks of it. */
function clusterWith(partitionCounts: Record<string, number>): Cluster {
  return {
    findTopicPartitionMetadata: (topic: string) => Array.from({ length: partitionCounts[topic] }, (_, partitionId) => ({ partitionId })),
  } as unknown as Cluster;
}

/** Builds one member's join metadata the way kafkajs does: through the assigner's own protocol(). */
function joiningMember(memberId: string, owned: number[], cluster: Cluster): GroupMember {
  const assigner = coPartitionedAssigner(() => owned)({ cluster, groupId: 'g', logger: {} as Logger });
  return { memberId, memberMetadata: assigner.protocol({ topics: TOPICS }).metadata };
}

async function assignmentOf(members: GroupMember[], cluster: Cluster): Promise<Map<string, Record<string, number[]>>> {
  const assigner = coPartitionedAssigner(() => [])({ cluster, groupId: 'g', logger: {} as Logger });
  const assigned = await assigner.assign({ members, topics: TOPICS });
  return new Map(assigned.map(({ memberId, memberAssignment }) => [memberId, AssignerProtocol.MemberAssignment.decode(memberAssignment)!.assignment]));
}

describe('coPartitionedAssigner', () => {
  const cluster = clusterWith({ events: 6, 'events.repairs': 6 });

  it('round-trips the owned partitions through the join metadata, and reads unknown user data as none', () => {
    const member = joiningMember('m-1', [4, 1], cluster);
    const metadata = AssignerProtocol.MemberMetadata.decode(member.memberMetadata)!;
    expect(metadata.topics).toEqual(TOPICS);
    expect(decodeOwnedPartitions(metadata.userData)).toEqual([4, 1]);
    expect(decodeOwnedPartitions(encodeOwnedPartitions([]))).toEqual([]);
    expect(decodeOwnedPartitions(Buffer.alloc(0))).toEqual([]);
    expect(decodeOwnedPartitions(Buffer.from('not json'))).toEqual([]);
    expect(decodeOwnedPartitions(Buffer.from('{"owned":[2,-1,"x",1.5]}'))).toEqual([2]);
  });

  it('gives partition p of both topics to the same member, every partition exactly once, balanced', async () => {
    const members = ['m-c', 'm-a', 'm-b', 'm-d'].map((id) => joiningMember(id, [], cluster));
    const plan = await assignmentOf(members, cluster);
    expect([...plan.keys()].sort()).toEqual(['m-a', 'm-b', 'm-c', 'm-d']);
    const owners = new Map<number, string>();
    for (const [memberId, byTopic] of plan) {
      expect(byTopic['events.repairs']).toEqual(byTopic.events);
      expect(byTopic.events.length === 1 || byTopic.events.length === 2).toBe(true);
      for (const partition of byTopic.events) {
        expect(owners.has(partition)).toBe(false);
        owners.set(partition, memberId);
      }
    }
    expect([...owners.keys()].sort()).toEqual([0, 1, 2, 3, 4, 5]);
  });

  it('leaves partitions with the member that says it holds them when a member joins', async () => {
    const before = await assignmentOf([joiningMember('m-a', [], cluster), joiningMember('m-b', [], cluster)], cluster);
    const members = [...before].map(([memberId, byTopic]) => joiningMember(memberId, byTopic.events, cluster));
    // The newcomer sorts first: without stickiness it would take partitions 0 and 1 from their owner.
    const after = await assignmentOf([...members, joiningMember('m-0', [], cluster)], cluster);
    for (const [memberId, byTopic] of before) {
      const kept = after.get(memberId)!.events;
      expect(kept).toHaveLength(2);
      expect(kept.every((p) => byTopic.events.includes(p))).toBe(true);
    }
    expect(after.get('m-0')!.events).toHaveLength(2);
  });

  it('lets the first member by id keep a partition two members claim', () => {
    const previous = previousOwners([joiningMember('m-b', [0, 1], cluster), joiningMember('m-a', [1, 2], cluster)]);
    expect([...previous].sort(([x], [y]) => x - y)).toEqual([
      [0, 'm-b'],
      [1, 'm-a'],
      [2, 'm-a'],
    ]);
  });

  it('refuses topics with different partition counts', async () => {
    const uneven = clusterWith({ events: 6, 'events.repairs': 4 });
    await expect(assignmentOf([joiningMember('m-a', [], uneven)], uneven)).rejects.toThrow(/equal partition counts/);
  });
});
