/*
 * Topics read together by one consumer group, partition by partition: partition p of every such
 * topic belongs to the same member. The graph's repair topic is co-partitioned with the event
 * topic, so the worker that owns a student's events also receives the repairs of that student's pool.
 */

/** The name of the internal repair topic next to an input topic. */
export function repairTopicName(inputTopic: string): string {
  return `${inputTopic}.repairs`;
}

/**
 * Why the repair topic cannot be used, or null when it can. Partition p of the repair topic must
 * reach the owner of partition p of the input topic, so both need the same partition count; a
 * service that started anyway would send repairs to workers that do not own the pools.
 */
export function repairTopicMismatch(input: { topic: string; partitionCount: number }, repairs: { topic: string; partitionCount: number } | undefined): string | null {
  if (!repairs) return `repair topic ${repairTopicName(input.topic)} does not exist`;
  if (repairs.partitionCount !== input.partitionCount) {
    return `repair topic ${repairs.topic} has ${repairs.partitionCount} partitions, input topic ${input.topic} has ${input.partitionCount}: they must be equal`;
  }
  return null;
}

/**
 * kafkajs-style group assignment for a consumer of several co-partitioned topics: partition p of
 * every topic goes to the same member, so the worker that owns a student's events also receives
 * the repairs for that student's pool. (kafkajs's round-robin assigner deals each topic's
 * partitions out separately and would split them.) Balanced: every member gets floor(P/m) or
 * ceil(P/m) partitions; sticky: a partition stays with its `previous` owner when the quota
 * allows, so a rebalance moves as few pools' writers as it can. Members in id order.
 */
export function coPartitionedAssignment(
  memberIds: readonly string[],
  topics: readonly { topic: string; partitionCount: number }[],
  previous: ReadonlyMap<number, string> = new Map(),
): Map<string, Map<string, number[]>> {
  if (topics.length === 0) return new Map(memberIds.map((m) => [m, new Map()]));
  const partitionCount = topics[0].partitionCount;
  const uneven = topics.find((t) => t.partitionCount !== partitionCount);
  if (uneven) throw new Error(`co-partitioned topics must have equal partition counts: ${topics.map((t) => `${t.topic} has ${t.partitionCount}`).join(', ')}`);
  const members = [...new Set(memberIds)].sort();
  const owned = new Map<string, number[]>(members.map((m) => [m, []]));
  if (members.length === 0) return new Map();
  const base = Math.floor(partitionCount / members.length);
  let extras = partitionCount % members.length;
  const unassigned = new Set(partitions(partitionCount));
  const keep = (partition: number, member: string) => {
    owned.get(member)!.push(partition);
    unassigned.delete(partition);
  };
  for (const partition of partitions(partitionCount)) {
    const member = previous.get(partition);
    if (member !== undefined && owned.has(member) && owned.get(member)!.length < base) keep(partition, member);
  }
  for (const partition of [...unassigned]) {
    const member = previous.get(partition);
    if (member !== undefined && owned.has(member) && owned.get(member)!.length === base && extras > 0) {
      keep(partition, member);
      extras--;
    }
  }
  for (const partition of [...unassigned]) {
    const member = members
      .filter((m) => owned.get(m)!.length < base || (owned.get(m)!.length === base && extras > 0))
      .sort((x, y) => owned.get(x)!.length - owned.get(y)!.length || (x < y ? -1 : 1))[0];
    if (owned.get(member)!.length === base) extras--;
    keep(partition, member);
  }
  return new Map(members.map((m) => [m, new Map(topics.map((t) => [t.topic, [...owned.get(m)!].sort((x, y) => x - y)]))]));
}

function partitions(count: number): number[] {
  return Array.from({ length: count }, (_, i) => i);
}
