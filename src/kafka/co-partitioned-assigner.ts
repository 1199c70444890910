import { AssignerProtocol, GroupMember, PartitionAssigner } from 'kafkajs';
import { coPartitionedAssignment } from './co-partitioning';

export const CO_PARTITIONED_PROTOCOL = 'CoPartitioned';
const PROTOCOL_VERSION = 1;

/**
 * What a member tells the group leader when it joins: the partitions it holds now. Every member
 * of one group must speak this protocol (kafkajs's round-robin members cannot join the group).
 */
export function encodeOwnedPartitions(partitions: readonly number[]): Buffer {
  return Buffer.from(JSON.stringify({ owned: [...partitions] }), 'utf8');
}

/** The partitions a member says it holds; none when it says nothing readable (a fresh member). */
export function decodeOwnedPartitions(userData: Buffer | null | undefined): number[] {
  if (!userData || userData.length === 0) return [];
  try {
    const parsed = JSON.parse(userData.toString('utf8')) as { owned?: unknown };
    return Array.isArray(parsed.owned) ? parsed.owned.filter((p): p is number => Number.isInteger(p) && p >= 0) : [];
  } catch {
    return [];
  }
}

/**
 * Who held which partition before this rebalance, from the members' join metadata. Two members
 * can both claim a partition when one was evicted and has not noticed yet; the first in member id
 * order keeps it (any choice is correct, stickiness only saves a take-over).
 */
export function previousOwners(members: readonly GroupMember[]): Map<number, string> {
  const previous = new Map<number, string>();
  for (const member of [...members].sort((x, y) => (x.memberId < y.memberId ? -1 : x.memberId > y.memberId ? 1 : 0))) {
    const { userData } = AssignerProtocol.MemberMetadata.decode(member.memberMetadata)!;
    for (const partition of decodeOwnedPartitions(userData)) if (!previous.has(partition)) previous.set(partition, member.memberId);
  }
  return previous;
}

/**
 * A kafkajs PartitionAssigner that gives partition p of every subscribed topic to the same member
 * (coPartitionedAssignment: balanced, sticky), so the worker that owns a partition's events also
 * receives that partition's repairs. `ownedPartitions` is read at each join: the partitions this
 * member holds, sent to the leader so that a rebalance leaves them where they are when it can.
 */
export function coPartitionedAssigner(ownedPartitions: () => readonly number[]): PartitionAssigner {
  return ({ cluster }) => ({
    name: CO_PARTITIONED_PROTOCOL,
    version: PROTOCOL_VERSION,
    protocol: ({ topics }) => ({
      name: CO_PARTITIONED_PROTOCOL,
      metadata: AssignerProtocol.MemberMetadata.encode({ version: PROTOCOL_VERSION, topics, userData: encodeOwnedPartitions(ownedPartitions()) }),
    }),
    async assign({ members, topics }) {
      const counts = topics.map((topic) => ({ topic, partitionCount: cluster.findTopicPartitionMetadata(topic).length }));
      const plan = coPartitionedAssignment(
        members.map((m) => m.memberId),
        counts,
        previousOwners(members),
      );
      return [...plan].map(([memberId, byTopic]) => ({
        memberId,
        memberAssignment: AssignerProtocol.MemberAssignment.encode({ version: PROTOCOL_VERSION, assignment: Object.fromEntries(byTopic), userData: Buffer.alloc(0) }),
      }));
    },
  });
}
