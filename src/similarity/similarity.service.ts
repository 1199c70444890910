import { Inject, Injectable } from '@nestjs/common';
import { PinoLogger } from 'nestjs-pino';
import { EntityManager } from 'typeorm';
import { AppConfig } from '../config/app-config';
import { APP_CONFIG } from '../config/config.module';
import { TransactionRunner } from '../database/transaction-runner';
import { PartitionAssignment } from '../kafka/partition-assignment';
import { partitionOfKey } from '../kafka/partition-of-key';
import { WorkerMetrics } from '../metrics/worker-metrics';
import { EmbeddingEvent } from './dto/embedding-event';
import { EmbeddingRepository, NearestWalk } from './embedding.repository';
import { coalesceByStudent } from './graph/coalesce-events';
import { decideEvent, EventDecision } from './graph/event-decision';
import { listChange, NeighborPool, poolFromSearch, publicNeighbors, samePool } from './graph/neighbor-pool';
import { RepairedPool } from './graph/repair-pools';
import { causeOfListChange, currentEmbeddings, similaritiesNeeded } from './graph/repair-judging';
import { applyRepairs, coalesceRepairs, CurrentEmbeddings, RepairMessage, repairsByPartition, RepairSettings, repairsForMove, repairsForRemoval, WalkCandidate } from './graph/repair-protocol';
import { reverseSeedCount } from './graph/reverse-seeds';
import { PartitionHolderIndex } from './graph/partition-holder-index';
import { NeighborPoolRepository, OwnerAndSubject, OwnPartition } from './neighbor-pool.repository';
import { OwnedHolderIndexes } from './owned-holder-indexes';
import { PartitionOwnership } from './partition-ownership';
import { PoolSearch, PoolSearchRequest } from './pool-search';
import { Rejection, unusableEmbedding } from './rejections';
import { RepairPublisher } from './repair.publisher';
import { NeighborListChange, SimilarityRepository } from './similarity.repository';

export interface BatchOutcome {
  /** Events whose student was taken out because its vector is unusable: for the dead-letter topic. */
  rejected: { event: EmbeddingEvent; rejection: Rejection }[];
}

/** What a batch of repair messages did to this partition's pools. */
export interface RepairBatchResult {
  /** Pools judged against at least one message. */
  judged: number;
  /** Judged pools that fell below K and were searched afresh. */
  refills: number;
  /** Public lists whose rows changed. */
  listsWritten: number;
}

/** The time an event's record was written (ms since the epoch): where its settle time is measured from. */
export type EventTimestamps = (event: EmbeddingEvent) => number;

interface Decided {
  event: EmbeddingEvent;
  decision: EventDecision;
}

/** A batch's events (one per student) decided against the stored embeddings. */
interface OwnEventPlan {
  decided: Decided[];
  /** Students with a current, usable vector: searched afresh, announced as moved. */
  moved: EmbeddingEvent[];
  /** Students that leave the graph: their pools and lists go, announced as left. */
  removed: EmbeddingEvent[];
  /** The embedding rows a versioned delete removes. */
  leaving: { studentId: string; version: number }[];
  /** Each moved or removed student's stored embedding version, where it has one. */
  versions: Map<string, number>;
}

/** A moved student's fresh search: its own pool, and (index mode) the walk and seeds its announcement carries. */
interface OwnSearch {
  pool: NeighborPool;
  walk: WalkCandidate[];
  seeds: string[];
}

/** A graph write transaction of one partition, past its fence. */
interface PartitionTransaction {
  db: EntityManager;
  own: OwnPartition;
  /** Who in the partition holds whom; every pool write of the transaction changes it as it is made. */
  holders: PartitionHolderIndex;
}

/** The pools a repair batch judges, as stored, and which subject each of them is offered beyond its holders. */
interface PoolsToJudge {
  pools: Map<string, NeighborPool>;
  offers: Map<string, Set<string>>;
}

/**
 * The graph's two use cases, one writer per list: this worker writes only the pools and public
 * lists of the students of the partitions it owns, each write transaction fenced by the
 * partition's owner row (PartitionOwnership).
 *
 * - applyEvents: a batch of the event topic. The partition's moved students get fresh pools
 *   (searched inside the fenced transaction), the leaving ones lose theirs, and the partition's
 *   own pools are judged against every change; after the commit, every change is announced to
 *   every other partition as a repair message.
 * - applyRepairs: a batch of the repair topic. The partition's owner judges each announced change
 *   against its own pools and the current vectors (repair-protocol.ts), refills the pools that
 *   fall short, and writes what changed. Judging produces nothing: a pool change is not a vector
 *   change.
 */
@Injectable()
export class SimilarityService {
  private longestBatchMs = 0;
  private longestTransactionMs = 0;

  constructor(
    private readonly transactions: TransactionRunner,
    private readonly embeddings: EmbeddingRepository,
    private readonly pools: NeighborPoolRepository,
    private readonly poolSearch: PoolSearch,
    private readonly similarities: SimilarityRepository,
    private readonly ownership: PartitionOwnership,
    private readonly assignment: PartitionAssignment,
    private readonly repairs: RepairPublisher,
    private readonly holderIndexes: OwnedHolderIndexes,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly metrics: WorkerMetrics,
    private readonly logger: PinoLogger,
  ) {
    logger.setContext(SimilarityService.name);
  }

  private get settings(): RepairSettings {
    const { maxNeighbors, reserve, threshold, candidateSearch } = this.config.graph;
    return { k: maxNeighbors, capacity: maxNeighbors + reserve, threshold, reverseSearch: candidateSearch };
  }

  /**
   * Applies a batch of one partition of the event topic: one fenced transaction writes the moved
   * students' fresh pools and lists, removes the leaving ones and judges the partition's own share
   * of the changes; then the other partitions' repair messages are produced (awaited), so the
   * caller may commit the batch's offsets once this resolves.
   */
  async applyEvents(partition: number, events: EmbeddingEvent[], timestampOf: EventTimestamps = () => Date.now()): Promise<BatchOutcome> {
    const started = performance.now();
    const latest = coalesceByStudent(events);
    const { plan, elsewhere, ownShare } = await this.inPartitionTransaction(partition, async (tx) => {
      const { plan, searched } = await this.applyOwnEvents(tx, latest);
      const elsewhere = this.announce(plan, searched, timestampOf);
      const ownMessages = elsewhere.get(partition) ?? [];
      elsewhere.delete(partition);
      // The partition's own share is judged here, by the same writer in the same fenced
      // transaction, after the moved students' vectors were written upstream, as its repair batch
      // would judge it: one message in P never travels, and it settles with the event.
      const judged = await this.judgeRepairs(tx, ownMessages);
      return { plan, elsewhere, ownShare: { messages: ownMessages, judged } };
    });
    this.observeJudged(ownShare.messages, ownShare.judged);
    await this.repairs.publish(elsewhere);
    this.observeEventBatch(events.length, plan, performance.now() - started);
    return {
      rejected: plan.decided.flatMap(({ event, decision }) =>
        decision.action === 'remove' && (decision.reason === 'zero vector' || decision.reason === 'wrong dimension')
          ? [{ event, rejection: unusableEmbedding(decision.reason, this.config.vectors.dimension) }]
          : [],
      ),
    };
  }

  /** Judges a batch of one partition of the repair topic against that partition's pools, in one fenced transaction. */
  async applyRepairs(partition: number, messages: RepairMessage[]): Promise<RepairBatchResult> {
    const started = performance.now();
    const result = await this.inPartitionTransaction(partition, (tx) => this.judgeRepairs(tx, messages));
    this.observeJudged(messages, result);
    this.metrics.repairBatchDuration.observe((performance.now() - started) / 1000);
    return result;
  }

  private observeJudged(messages: RepairMessage[], result: RepairBatchResult): void {
    const settledAt = Date.now();
    for (const message of messages) this.metrics.eventToSettled.observe(Math.max(0, settledAt - message.eventTimestamp) / 1000);
    this.metrics.repairsApplied.inc(messages.length);
    this.metrics.listsRepaired.inc(result.listsWritten);
    this.metrics.refills.inc(result.refills);
  }

  /**
   * Runs `work`, in this worker's turn for the partition, in a transaction that first passes the
   * partition's fence (FencedError otherwise). A transaction that fails may have changed the
   * partition's holder index for writes that never committed: the index is read again next time.
   */
  private inPartitionTransaction<T>(partition: number, work: (tx: PartitionTransaction) => Promise<T>): Promise<T> {
    return this.ownership.inTurn(partition, async () => {
      const began = performance.now();
      try {
        return await this.transactions.run(async (db) => {
          const locked = await this.ownership.fence(db, partition);
          const own = { partition, partitionCount: this.partitionCount() };
          const holders = await this.timedStep('holdings', () => this.holderIndexes.of(db, { ...own, epoch: locked.epoch, poolsRevision: locked.poolsRevision }));
          return work({ db, own, holders });
        });
      } catch (error) {
        this.holderIndexes.forget(partition);
        throw error;
      } finally {
        const durationMs = performance.now() - began;
        this.metrics.graphTransaction.observe(durationMs / 1000);
        if (durationMs > this.longestTransactionMs) {
          this.longestTransactionMs = durationMs;
          this.metrics.longestGraphTransaction.set(durationMs / 1000);
        }
      }
    });
  }

  private async applyOwnEvents(tx: PartitionTransaction, latest: EmbeddingEvent[]): Promise<{ plan: OwnEventPlan; searched: Map<string, OwnSearch> }> {
    const { db } = tx;
    const plan = await this.decideEvents(db, latest);
    await this.embeddings.deleteUpTo(db, plan.leaving);
    // Searched under the fence: a change this search misses is announced after this transaction
    // commits, so this partition's repairs judge it against the pool written here.
    const searched = await this.searchOwnPools(db, plan.moved.map((e) => e.studentId));
    await this.writeOwnLists(tx, plan, searched);
    return { plan, searched };
  }

  private async decideEvents(db: EntityManager, latest: EmbeddingEvent[]): Promise<OwnEventPlan> {
    const states = await this.embeddings.loadStates(db, latest.map((e) => e.studentId), this.config.vectors.dimension);
    const decided: Decided[] = latest.map((event) => ({ event, decision: decideEvent(event, states.get(event.studentId)) }));
    const ofAction = (action: EventDecision['action']) => decided.filter((d) => d.decision.action === action).map((d) => d.event);
    return {
      decided,
      moved: ofAction('recompute'),
      removed: ofAction('remove'),
      leaving: decided.filter((d) => d.decision.action === 'remove' && d.decision.deleteEmbedding).map(({ event }) => ({ studentId: event.studentId, version: event.version! })),
      versions: new Map([...states].map(([id, state]) => [id, state.version])),
    };
  }

  /**
   * The moved students' own searches: the pool, and in index mode the walk of REVERSE_CANDIDATES
   * (each with its version, unfiltered: the pools' owners judge) and the seeds.
   */
  private async searchOwnPools(db: EntityManager, studentIds: string[]): Promise<Map<string, OwnSearch>> {
    const { capacity, threshold, reverseSearch } = this.settings;
    const { reverseCandidates, reverseSeeds, denseReverseSeeds } = this.config.graph;
    const found = await this.searchPools(db, studentIds, { mode: reverseSearch, threshold, poolSize: capacity, reach: reverseCandidates });
    return new Map(
      studentIds.map((id) => {
        const walk: NearestWalk = found.get(id) ?? { neighbors: [], reach: threshold, reachedSelf: true };
        const pool = poolFromSearch(walk.neighbors, capacity, threshold);
        if (reverseSearch === 'exact') return [id, { pool, walk: [], seeds: [] }];
        const seedCount = reverseSeedCount(walk, capacity, { usual: reverseSeeds, dense: denseReverseSeeds });
        return [id, { pool, walk: walk.neighbors, seeds: walk.neighbors.slice(0, seedCount).map((n) => n.studentId) }];
      }),
    );
  }

  private async writeOwnLists({ db, holders }: PartitionTransaction, plan: OwnEventPlan, searched: Map<string, OwnSearch>): Promise<void> {
    const { k } = this.settings;
    const movedIds = plan.moved.map((e) => e.studentId);
    const removedIds = plan.removed.map((e) => e.studentId);
    const before = await this.pools.load(db, [...movedIds, ...removedIds]);
    const fresh = new Map(movedIds.map((id) => [id, searched.get(id)!.pool]));
    await this.pools.save(db, fresh);
    await this.pools.delete(db, removedIds);
    for (const [id, pool] of fresh) holders.replace(id, membersOf(before.get(id)), membersOf(pool));
    for (const id of removedIds) holders.replace(id, membersOf(before.get(id)), []);
    await this.similarities.replaceLists(db, [
      ...plan.moved.map((e) => ({ studentId: e.studentId, eventId: e.eventId, neighbors: publicNeighbors(searched.get(e.studentId)!.pool, k) })),
      ...plan.removed.map((e) => ({ studentId: e.studentId, eventId: e.eventId, neighbors: [] })),
    ]);
  }

  /** Every change of the batch, as one message per partition (this one's included: applyEvents judges it itself), grouped by destination. */
  private announce(plan: OwnEventPlan, searched: Map<string, OwnSearch>, timestampOf: EventTimestamps): Map<number, RepairMessage[]> {
    if (plan.moved.length + plan.removed.length === 0) return new Map();
    const partitionCount = this.partitionCount();
    const partitionOf = (studentId: string) => partitionOfKey(studentId, partitionCount);
    const cause = (event: EmbeddingEvent) => ({ eventId: event.eventId, eventTimestamp: timestampOf(event) });
    return repairsByPartition([
      ...plan.moved.flatMap((event) => {
        const { walk, seeds } = searched.get(event.studentId)!;
        return repairsForMove({ subject: event.studentId, subjectVersion: plan.versions.get(event.studentId)!, walk, seeds, ...cause(event) }, partitionCount, partitionOf);
      }),
      ...plan.removed.map((event) => repairsForRemoval({ subject: event.studentId, subjectVersion: event.version ?? plan.versions.get(event.studentId) ?? 0, ...cause(event) }, partitionCount)).flat(),
    ]);
  }

  private partitionCount(): number {
    const latest = this.assignment.latest();
    if (!latest) throw new Error('no partition assignment yet: the repair messages cannot be addressed');
    return latest.partitionCount;
  }

  private async judgeRepairs(tx: PartitionTransaction, messages: RepairMessage[]): Promise<RepairBatchResult> {
    const { db } = tx;
    const coalesced = coalesceRepairs(messages);
    if (coalesced.length === 0) return { judged: 0, refills: 0, listsWritten: 0 };
    const stored = await this.poolsToJudge(tx, coalesced);
    const current = await this.timedStep('vectors', () => this.currentVectors(db, stored, coalesced));
    const judged = await this.timedStep('judge', async () => applyRepairs(stored.pools, coalesced, current, this.settings, stored.offers));
    const { pools, refills } = await this.timedStep('refill', () => this.refill(db, judged));
    const listsWritten = await this.timedStep('write', () => this.writeRepairedPools(tx, stored.pools, pools, coalesced));
    return { judged: judged.size, refills, listsWritten };
  }

  /**
   * This partition's pools the messages concern: the holders of each subject (from the partition's
   * holder index), and the pools a subject may enter by their current bound among those it is
   * offered to: in exact mode every pool, in index mode the messages' candidates and the holders
   * of their seeds. Read here, by the pools' only writer; the pools a subject cannot enter are not
   * loaded (see applyRepairs).
   */
  private async poolsToJudge({ db, own, holders }: PartitionTransaction, messages: RepairMessage[]): Promise<PoolsToJudge> {
    // The exact scan reads rows without an owner hash too: those are sorted here.
    const isOurs = (owner: string) => partitionOfKey(owner, own.partitionCount) === own.partition;
    const subjects = messages.map((m) => m.subject);
    const { threshold, reverseSearch } = this.settings;
    const entering = await this.timedStep('entering', async () =>
      reverseSearch === 'exact'
        ? (await this.pools.poolsSubjectsMayEnter(db, subjects, threshold, own)).filter((o) => isOurs(o.owner))
        : await this.pools.offersThatMayEnter(db, indexOffers(messages, holders, isOurs), threshold),
    );
    const offers = new Map<string, Set<string>>();
    for (const { owner, subject } of entering) {
      if (!offers.has(subject)) offers.set(subject, new Set());
      offers.get(subject)!.add(owner);
    }
    const owners = new Set(subjects.flatMap((subject) => holders.holdersOf(subject)));
    for (const offered of offers.values()) for (const owner of offered) owners.add(owner);
    return { pools: await this.timedStep('load', () => this.pools.load(db, [...owners])), offers };
  }

  private async timedStep<T>(step: string, work: () => Promise<T>): Promise<T> {
    const started = performance.now();
    try {
      return await work();
    } finally {
      this.metrics.repairStepSeconds.inc({ step }, (performance.now() - started) / 1000);
    }
  }

  /**
   * The versions and the similarities the judgement needs, in one statement (one snapshot, so
   * they agree). Every judged pool's owner appears in a pair with the subject it judges, so every
   * version the judgement asks for is read here.
   */
  private async currentVectors(db: EntityManager, stored: PoolsToJudge, messages: RepairMessage[]): Promise<CurrentEmbeddings> {
    const needed = similaritiesNeeded(stored.pools, messages, stored.offers);
    const states = await this.embeddings.pairStates(db, needed.map((p) => ({ studentId: p.owner, otherId: p.subject })), this.config.vectors.dimension);
    const versions = new Map<string, number>();
    const similarities: { owner: string; subject: string; similarity: number }[] = [];
    for (const s of states) {
      if (s.studentVersion !== null) versions.set(s.studentId, s.studentVersion);
      if (s.otherVersion !== null) versions.set(s.otherId, s.otherVersion);
      if (s.similarity !== null) similarities.push({ owner: s.studentId, subject: s.otherId, similarity: s.similarity });
    }
    return currentEmbeddings(versions, similarities);
  }

  /** Judged pools as they will be written: the ones that fell below K searched afresh. */
  private async refill(db: EntityManager, judged: Map<string, RepairedPool>): Promise<{ pools: Map<string, NeighborPool>; refills: number }> {
    const { capacity, threshold, reverseSearch } = this.settings;
    const refillIds = [...judged].filter(([, r]) => r.needsRefill).map(([id]) => id);
    const refilled = await this.searchPools(db, refillIds, { mode: reverseSearch, threshold, poolSize: capacity, reach: capacity });
    const pools = new Map([...judged].map(([id, r]) => [id, r.needsRefill ? poolFromSearch(refilled.get(id)?.neighbors ?? [], capacity, threshold) : r.pool]));
    return { pools, refills: refillIds.length };
  }

  /** Writes the pools that changed and their public lists' changed rows; returns how many lists changed. */
  private async writeRepairedPools({ db, holders }: PartitionTransaction, stored: Map<string, NeighborPool>, repaired: Map<string, NeighborPool>, messages: RepairMessage[]): Promise<number> {
    const { k } = this.settings;
    const changed = new Map<string, NeighborPool>();
    const lists: NeighborListChange[] = [];
    for (const [owner, pool] of repaired) {
      const before = stored.get(owner)!;
      if (samePool(pool, before)) continue;
      changed.set(owner, pool);
      const change = listChange(publicNeighbors(before, k), publicNeighbors(pool, k));
      if (change.upserts.length + change.removals.length > 0) lists.push({ studentId: owner, eventId: causeOfListChange(change, before, messages).eventId, ...change });
    }
    await this.pools.save(db, changed);
    for (const [owner, pool] of changed) holders.replace(owner, membersOf(stored.get(owner)), membersOf(pool));
    await this.similarities.applyChanges(db, lists);
    return lists.length;
  }

  private async searchPools(db: EntityManager, studentIds: string[], request: PoolSearchRequest): Promise<Map<string, NearestWalk>> {
    const { found, lostWalks } = await this.poolSearch.search(db, studentIds, request);
    this.metrics.indexWalksLost.inc({ found_by: 'wider_walk' }, lostWalks.foundByWiderWalk);
    this.metrics.indexWalksLost.inc({ found_by: 'exact_search' }, lostWalks.searchedExactly);
    return found;
  }

  private observeEventBatch(received: number, plan: OwnEventPlan, durationMs: number): void {
    for (const { event, decision } of plan.decided) this.logDecision(event, decision, durationMs);
    const count = (action: EventDecision['action']) => plan.decided.filter((d) => d.decision.action === action).length;
    this.metrics.batchDuration.observe(durationMs / 1000);
    if (durationMs > this.longestBatchMs) {
      this.longestBatchMs = durationMs;
      this.metrics.longestBatch.set(durationMs / 1000);
    }
    this.metrics.batchSize.observe(received);
    this.metrics.eventsApplied.inc({ outcome: 'recomputed' }, count('recompute'));
    this.metrics.eventsApplied.inc({ outcome: 'removed' }, count('remove'));
    this.metrics.eventsApplied.inc({ outcome: 'stale' }, count('stale'));
    this.metrics.eventsApplied.inc({ outcome: 'coalesced' }, received - plan.decided.length);
  }

  private logDecision(event: EmbeddingEvent, decision: EventDecision, durationMs: number): void {
    const fields = { studentId: event.studentId, eventId: event.eventId, batchMs: Math.round(durationMs * 10) / 10 };
    if (decision.action === 'recompute') this.logger.info(fields, 'similarity updated');
    else if (decision.action === 'remove') this.logger.info({ ...fields, reason: decision.reason }, 'student removed from the graph');
    else this.logger.info({ ...fields, storedVersion: decision.storedVersion, eventVersion: event.version }, 'stale event ignored');
  }
}

function membersOf(pool: NeighborPool | undefined): string[] {
  return pool?.entries.map((n) => n.studentId) ?? [];
}

/** Index mode: each subject with this partition's candidates of its walk and holders of its seeds. */
function indexOffers(messages: RepairMessage[], holders: PartitionHolderIndex, isOurs: (owner: string) => boolean): OwnerAndSubject[] {
  return messages.flatMap((m) => {
    const owners = new Set([...m.candidates.map((c) => c.studentId), ...m.seeds.flatMap((seed) => holders.holdersOf(seed))]);
    owners.delete(m.subject);
    return [...owners].filter(isOurs).map((owner) => ({ owner, subject: m.subject }));
  });
}
