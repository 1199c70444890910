import { NeighborPool, offerToPool, poolYieldsTopK, removeFromPool } from './neighbor-pool';
import { PoolSettings, RepairedPool } from './repair-pools';

/*
 * One writer per list. Each student's pool and public list are written only by the owner of the
 * student's partition (the partition its events arrive on). What a change of student X does to
 * OTHER students' pools travels as repair messages to their owners, who judge it against their
 * own current pools and the current vectors. Everything here is pure: the service reads and
 * writes, these functions decide.
 *
 * Why a change is announced to every partition instead of sent to chosen target students:
 * - the sender would pick targets by reading other partitions' pools (who holds X, whose bound X
 *   beats), and those pools change concurrently under their own writers. A refill that commits
 *   after the sender's read can lower a bound (the offer the pool would now take is never made),
 *   and a judgement that read X's old vector can commit after the sender looked for X's holders
 *   (the holder is never told). Announced per partition, "who holds X" and "whose bound X beats"
 *   are read by the one writer of those pools, in its own transaction, after the announcement was
 *   produced, hence after X's vector was written: neither race exists;
 * - the cost per change is one message per partition whatever X is: a hub held by thousands of
 *   pools costs the same as anyone, and each owner finds its holders with its own index lookup;
 * - exact mode stays exact at the cost it has today (every pool's bound against X, O(N d) per
 *   change), split over the owners, each scanning only its own students.
 */

/** Which pools an owner offers a changed student to, beyond the pools that hold it. */
export type ReverseSearch =
  /** Every pool of its partition the student may enter by the pool's current bound (one scan). */
  | 'exact'
  /** The candidates the sender's index walk found, and pools that hold one of its seeds. */
  | 'index';

export interface RepairSettings extends PoolSettings {
  reverseSearch: ReverseSearch;
}

/** A student the sender's index walk found near the subject: `similarity` is between the vectors at `version` (the candidate's) and the message's `subjectVersion`. */
export interface WalkCandidate {
  studentId: string;
  similarity: number;
  version: number;
}

/**
 * "Student `subject` changed": what one partition's owner needs to repair its own pools. The
 * owner judges it from the CURRENT vectors, so a repeated, late or reordered message is at worst
 * redundant work; `subjectVersion` only says which vector the sender's figures (the candidates'
 * similarities) belong to, and lets a batch keep one message per subject.
 */
export interface RepairMessage {
  /** The partition (same number on the input and the repair topic) whose owner applies this. */
  partition: number;
  subject: string;
  /** The subject's embedding version the sender acted on. */
  subjectVersion: number;
  /** 'left': the subject has no usable vector any more; 'moved': it has a new one (or a first one). */
  kind: 'moved' | 'left';
  /** Index mode: the walk's students that belong to this partition. Empty in exact mode and for 'left'. */
  candidates: WalkCandidate[];
  /** Index mode: the subject's nearest few; this partition's pools that hold one of them are offered the subject. */
  seeds: string[];
  /** The event that caused the change: written as the last event of the lists the message changes. */
  eventId: string;
  /** That event's record timestamp (ms since the epoch): how long the change took to settle is measured from it. */
  eventTimestamp: number;
}

/** The event a change came from, carried by every message it causes. */
export interface RepairCause {
  eventId: string;
  eventTimestamp: number;
}

/**
 * What the owner of a moved student sends: one message per partition (its own included: the
 * service judges its own partition's share in the event's transaction instead of producing it).
 * `walk` (index mode) is spread over the partitions by `partitionOf`; no candidate is filtered by
 * a bound the sender read, because that bound may be lowered by a refill the sender cannot see.
 */
export function repairsForMove(
  move: { subject: string; subjectVersion: number; walk?: readonly WalkCandidate[]; seeds?: readonly string[] } & RepairCause,
  partitionCount: number,
  partitionOf: (studentId: string) => number,
): RepairMessage[] {
  const candidatesByPartition = new Map<number, WalkCandidate[]>();
  for (const candidate of move.walk ?? []) {
    if (candidate.studentId === move.subject) continue;
    const partition = partitionOf(candidate.studentId);
    if (!candidatesByPartition.has(partition)) candidatesByPartition.set(partition, []);
    candidatesByPartition.get(partition)!.push(candidate);
  }
  return partitions(partitionCount).map((partition) => ({
    partition,
    subject: move.subject,
    subjectVersion: move.subjectVersion,
    kind: 'moved' as const,
    candidates: candidatesByPartition.get(partition) ?? [],
    seeds: [...(move.seeds ?? [])],
    eventId: move.eventId,
    eventTimestamp: move.eventTimestamp,
  }));
}

/** What the owner of a student that left sends: one message per partition; holders drop it. */
export function repairsForRemoval(removal: { subject: string; subjectVersion: number } & RepairCause, partitionCount: number): RepairMessage[] {
  const { subject, subjectVersion, eventId, eventTimestamp } = removal;
  return partitions(partitionCount).map((partition) => ({ partition, subject, subjectVersion, kind: 'left' as const, candidates: [], seeds: [], eventId, eventTimestamp }));
}

/** The messages by destination partition, so a batch produces one record per partition. */
export function repairsByPartition(messages: readonly RepairMessage[]): Map<number, RepairMessage[]> {
  const grouped = new Map<number, RepairMessage[]>();
  for (const message of messages) {
    if (!grouped.has(message.partition)) grouped.set(message.partition, []);
    grouped.get(message.partition)!.push(message);
  }
  return grouped;
}

/**
 * One message per subject: the one of the highest version, with the candidates and seeds of
 * every message of that same version (a redelivered move may carry a walk made on a later
 * snapshot; each candidate's figure is guarded by its own version). An older version's walk is
 * dropped, not merged: its figures belong to the subject's older vector, and under the newer
 * message's version they would pass for current.
 */
export function coalesceRepairs(messages: readonly RepairMessage[]): RepairMessage[] {
  const bySubject = new Map<string, RepairMessage>();
  for (const message of messages) {
    const held = bySubject.get(message.subject);
    if (!held || message.subjectVersion > held.subjectVersion) {
      bySubject.set(message.subject, { ...message, candidates: [...message.candidates], seeds: [...message.seeds] });
      continue;
    }
    if (message.subjectVersion < held.subjectVersion) continue;
    const candidates = new Map(held.candidates.map((c) => [c.studentId, c]));
    for (const c of message.candidates) if ((candidates.get(c.studentId)?.version ?? -1) < c.version) candidates.set(c.studentId, c);
    bySubject.set(message.subject, { ...held, candidates: [...candidates.values()], seeds: [...new Set([...held.seeds, ...message.seeds])] });
  }
  return [...bySubject.values()].sort((x, y) => (x.subject < y.subject ? -1 : x.subject > y.subject ? 1 : 0));
}

/** The vectors as they are now, as far as the owner's transaction looked at them. */
export interface CurrentEmbeddings {
  /** The version of the student's usable vector; undefined when it has none (it left, or its vector is unusable). */
  versionOf(studentId: string): number | undefined;
  /** Cosine similarity of two students' current vectors; asked only for students that have a version. */
  similarity(a: string, b: string): number;
}

/** Pools, by subject, that a subject is offered to beyond its holders, its candidates and its seeds' holders. */
export type Offers = ReadonlyMap<string, ReadonlySet<string>>;

/**
 * The owner's judgement of a batch of repair messages against its own pools. For each subject X
 * (one message per subject, see coalesceRepairs) it judges the pools that hold X, the message's
 * candidates, the pools that hold one of its seeds (at that point of the batch) and `offers`
 * of X: X leaves the pool, and if both have a usable vector, X is offered again at sim(Y, X) NOW,
 * by the pool rules.
 *
 * Idempotent and order-free because nothing but the current state decides: applying a message
 * twice removes and re-offers X at the same similarity against the same bound (a removal never
 * moves the bound), which changes nothing; an older message than one already applied re-checks
 * the current vector, not its own. A carried similarity is used only when it is provably current
 * (the message's subject version and the candidate's version are both the current ones).
 *
 * `pools` are the owner's pools the batch loaded. They must include every own pool that holds a
 * subject, and every own pool the judgement would offer a subject to that the subject may enter
 * by the pool's CURRENT bound (read in the same transaction, which only the owner writes). A pool
 * left out is never changed, which is right: judging only raises a bound (an eviction) and a
 * removal keeps it, so a subject that cannot enter at the start of the batch cannot later. In
 * exact mode `offers` are all such pools (the owner's scan); in index mode they may be empty.
 * Returned: every judged pool, with whether it needs a refill (a fresh search) before the batch
 * writes it; never for a pool whose owner has no vector.
 */
export function applyRepairs(
  pools: ReadonlyMap<string, NeighborPool>,
  messages: readonly RepairMessage[],
  current: CurrentEmbeddings,
  settings: PoolSettings,
  offers: Offers = new Map(),
): Map<string, RepairedPool> {
  const working = new Map(pools);
  const coalesced = coalesceRepairs(messages);
  const holders = new HolderIndex(pools, askedAbout(coalesced));
  const judged = new Set<string>();
  for (const message of coalesced) {
    const subject = message.subject;
    const subjectVersion = current.versionOf(subject);
    const carried = new Map(message.candidates.map((c) => [c.studentId, c]));
    const toJudge = new Set([...holders.of(subject), ...carried.keys(), ...(offers.get(subject) ?? [])]);
    for (const seed of message.seeds) for (const owner of holders.of(seed)) toJudge.add(owner);
    for (const owner of toJudge) {
      const before = working.get(owner);
      if (owner === subject || !before) continue;
      judged.add(owner);
      let pool = removeFromPool(before, new Set([subject]));
      const ownerVersion = current.versionOf(owner);
      if (subjectVersion !== undefined && ownerVersion !== undefined) {
        const figure = carried.get(owner);
        const similarity =
          figure && figure.version === ownerVersion && message.subjectVersion === subjectVersion ? figure.similarity : current.similarity(owner, subject);
        pool = offerToPool(pool, { studentId: subject, similarity }, settings.capacity, settings.threshold);
      }
      holders.replace(owner, before, pool);
      working.set(owner, pool);
    }
  }
  // A pool whose owner has no vector is not refilled (there is nothing to search from): the
  // owner's own removal event is on its way to this same writer and deletes the pool.
  return new Map(
    [...judged].sort().map((owner) => {
      const pool = working.get(owner)!;
      return [owner, { pool, needsRefill: current.versionOf(owner) !== undefined && !poolYieldsTopK(pool, settings.k) }];
    }),
  );
}

/** The students a judgement of `messages` asks the holders of: their subjects and seeds. */
export function askedAbout(messages: readonly RepairMessage[]): Set<string> {
  const students = new Set<string>();
  for (const message of messages) {
    students.add(message.subject);
    for (const seed of message.seeds) students.add(seed);
  }
  return students;
}

/**
 * Which loaded pools hold each of the `tracked` students, kept up to date as the judgement changes
 * them. Only the students a batch asks about are indexed: a batch loads thousands of pools, and a
 * set per member of every one of them was a tenth of the worker's allocations.
 */
export class HolderIndex {
  private readonly byMember = new Map<string, Set<string>>();

  constructor(
    pools: ReadonlyMap<string, NeighborPool>,
    private readonly tracked: ReadonlySet<string>,
  ) {
    for (const [owner, pool] of pools) for (const n of pool.entries) this.add(n.studentId, owner);
  }

  of(member: string): ReadonlySet<string> {
    if (!this.tracked.has(member)) throw new Error(`the holders of ${member} are not tracked`);
    return this.byMember.get(member) ?? new Set();
  }

  replace(owner: string, before: NeighborPool, after: NeighborPool): void {
    if (before === after) return;
    for (const n of before.entries) this.byMember.get(n.studentId)?.delete(owner);
    for (const n of after.entries) this.add(n.studentId, owner);
  }

  private add(member: string, owner: string): void {
    if (!this.tracked.has(member)) return;
    const owners = this.byMember.get(member);
    if (owners) owners.add(owner);
    else this.byMember.set(member, new Set([owner]));
  }
}

/** A row of the owners table: who took the partition last, and the epoch that take gave it. */
export interface PartitionOwnership {
  partition: number;
  epoch: number;
  memberId: string;
}

/**
 * The row a worker writes when the group hands it a partition: the next epoch, every time (also
 * when it gets back a partition it held before: its own older transactions must fail too, they
 * may have read pools another owner has since rewritten). Epochs start at 1.
 */
export function takeOwnership(stored: PartitionOwnership | undefined, partition: number, memberId: string): PartitionOwnership {
  return { partition, epoch: (stored?.epoch ?? 0) + 1, memberId };
}

export type FenceCheck = { ok: true } | { ok: false; reason: string };

/**
 * Whether a write transaction of a partition may commit: the owners row it read first (and holds
 * FOR UPDATE until commit, so no take-over commits in between, and the partition's other
 * transactions, e.g. its repairs batch beside its events batch, wait their turn) must still be
 * the one this worker wrote when it took the partition. A worker that lost the partition,
 * whatever it still believes, fails here and writes nothing.
 */
export function fenceCheck(held: PartitionOwnership, stored: PartitionOwnership | undefined): FenceCheck {
  if (!stored) return { ok: false, reason: `partition ${held.partition} has no owner row` };
  if (stored.partition !== held.partition) return { ok: false, reason: `owner row of partition ${stored.partition} checked for partition ${held.partition}` };
  if (stored.epoch !== held.epoch || stored.memberId !== held.memberId) {
    return { ok: false, reason: `partition ${held.partition} is at epoch ${stored.epoch} (${stored.memberId}); this worker took it at epoch ${held.epoch}` };
  }
  return { ok: true };
}

function partitions(count: number): number[] {
  return Array.from({ length: count }, (_, i) => i);
}
