import { Inject, Injectable } from '@nestjs/common';
import { bulkhead } from 'cockatiel';
import { PinoLogger } from 'nestjs-pino';
import { EntityManager } from 'typeorm';
import { AppConfig } from '../config/app-config';
import { APP_CONFIG } from '../config/config.module';
import { TransactionRunner } from '../database/transaction-runner';
import { WorkerMetrics } from '../metrics/worker-metrics';
import { EmbeddingEvent } from './dto/embedding-event';
import { Rejection, unusableEmbedding } from './rejections';
import { EmbeddingRepository, NearestAndEntering } from './embedding.repository';
import { coalesceByStudent } from './graph/coalesce-events';
import { decideEvent, EmbeddingState, EventDecision } from './graph/event-decision';
import { listChange, NeighborPool, offerEnters, poolFromSearch, publicNeighbors, samePool } from './graph/neighbor-pool';
import { PoolOffer, PoolSettings, refineFreshPools, repairPools } from './graph/repair-pools';
import { reverseSeedCount } from './graph/reverse-seeds';
import { GraphChangeLogRepository } from './graph-change-log.repository';
import { NeighborPoolRepository } from './neighbor-pool.repository';
import { PoolSearch, PoolSearchRequest } from './pool-search';
import { NeighborListChange, NeighborListWrite, SimilarityRepository } from './similarity.repository';

export interface BatchOutcome {
  /** Events whose student was taken out because its vector is unusable: for the dead-letter topic. */
  rejected: { event: EmbeddingEvent; rejection: Rejection }[];
}

interface Decided {
  event: EmbeddingEvent;
  decision: EventDecision;
}

/** The moved students' searches, made before the graph lock, and what they saw. */
export interface SearchAhead {
  /** The change log's position in the search's snapshot. */
  position: number;
  /** Each searched student's embedding version as searched. */
  versions: Map<string, number>;
  nearest: Map<string, NearestAndEntering>;
}

/**
 * The use case: apply a batch of embedding events to the similarity graph, in one transaction.
 * Every changed student is treated as a delete followed (for a move) by an insert: its own pool
 * is searched afresh; it is removed from every pool that held it and offered again, at its new
 * similarity, to every pool it may now enter; pools that fall short are refilled by a search.
 *
 * The searches of the moved students' own pools run before the graph lock, so that batches of
 * other partitions and workers search while one of them writes; a worker's batches then write
 * in turn, each in a transaction of its own. Under the lock, the batch
 * catches up with the students changed since its search (the change log): they leave the
 * searched pools and are offered again at their current similarity, in both directions, by the
 * same pool rules as any repair. A student whose embedding changed since its search is
 * searched again under the lock.
 */
@Injectable()
export class SimilarityService {
  private longestBatchMs = 0;
  private longestTransactionMs = 0;
  /** One graph transaction of this worker at a time, the others waiting in arrival order. */
  private readonly graphTurns = bulkhead(1, Infinity);

  constructor(
    private readonly transactions: TransactionRunner,
    private readonly embeddings: EmbeddingRepository,
    private readonly pools: NeighborPoolRepository,
    private readonly poolSearch: PoolSearch,
    private readonly similarities: SimilarityRepository,
    private readonly changeLog: GraphChangeLogRepository,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly metrics: WorkerMetrics,
    private readonly logger: PinoLogger,
  ) {
    logger.setContext(SimilarityService.name);
  }

  private get settings(): PoolSettings {
    const { maxNeighbors, reserve, threshold } = this.config.graph;
    return { k: maxNeighbors, capacity: maxNeighbors + reserve, threshold };
  }

  async applyEvents(events: EmbeddingEvent[]): Promise<BatchOutcome> {
    const started = performance.now();
    return this.applySearched(events, await this.searchAhead(events), started);
  }

  /** Step one, without the graph lock: the fresh searches of the batch's moved students. */
  async searchAhead(events: EmbeddingEvent[]): Promise<SearchAhead> {
    const latest = coalesceByStudent(events);
    return this.transactions.readSnapshot((db) => this.searchInSnapshot(db, latest));
  }

  /** Step two, in this worker's turn and one transaction under the graph lock: everything else, caught up with what changed since step one. */
  async applySearched(events: EmbeddingEvent[], ahead: SearchAhead, started = performance.now()): Promise<BatchOutcome> {
    const latest = coalesceByStudent(events);
    const result = await this.inGraphTurn(() => this.transactions.run((db) => this.applyInTransaction(db, latest, ahead)));
    const durationMs = performance.now() - started;
    for (const { event, decision } of result.decided) this.logDecision(event, decision, durationMs);
    const count = (action: EventDecision['action']) => result.decided.filter((d) => d.decision.action === action).length;
    this.metrics.batchDuration.observe(durationMs / 1000);
    if (durationMs > this.longestBatchMs) {
      this.longestBatchMs = durationMs;
      this.metrics.longestBatch.set(durationMs / 1000);
    }
    this.metrics.batchSize.observe(events.length);
    this.metrics.eventsApplied.inc({ outcome: 'recomputed' }, count('recompute'));
    this.metrics.eventsApplied.inc({ outcome: 'removed' }, count('remove'));
    this.metrics.eventsApplied.inc({ outcome: 'stale' }, count('stale'));
    this.metrics.eventsApplied.inc({ outcome: 'coalesced' }, events.length - latest.length);
    this.metrics.listsRepaired.inc(result.repairedLists);
    this.metrics.refills.inc(result.refills);
    return {
      rejected: result.decided.flatMap(({ event, decision }) =>
        decision.action === 'remove' && (decision.reason === 'zero vector' || decision.reason === 'wrong dimension')
          ? [{ event, rejection: unusableEmbedding(decision.reason, this.config.vectors.dimension) }]
          : [],
      ),
    };
  }

  /**
   * Runs a graph transaction once this worker's earlier ones have ended. The partitions a worker
   * consumes at once would otherwise queue for the graph lock inside open transactions; waiting
   * here instead, a transaction lasts its own work plus, at most, other workers' transactions.
   */
  private async inGraphTurn<T>(transaction: () => Promise<T>): Promise<T> {
    const queued = performance.now();
    this.metrics.graphTurnsWaiting.inc();
    return this.graphTurns.execute(async () => {
      this.metrics.graphTurnsWaiting.dec();
      const began = performance.now();
      this.metrics.graphTurnWait.observe((began - queued) / 1000);
      try {
        return await transaction();
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

  private async searchInSnapshot(db: EntityManager, latest: EmbeddingEvent[]): Promise<SearchAhead> {
    const position = await this.changeLog.position(db);
    const states = await this.embeddings.loadStates(db, latest.map((e) => e.studentId), this.config.vectors.dimension);
    const moving = latest.filter((e) => decideEvent(e, states.get(e.studentId)).action === 'recompute').map((e) => e.studentId);
    const nearest = await this.searchMoved(db, moving);
    return { position, versions: new Map(moving.map((id) => [id, states.get(id)!.version])), nearest };
  }

  private async applyInTransaction(db: EntityManager, latest: EmbeddingEvent[], ahead: SearchAhead) {
    const waitStarted = performance.now();
    await this.pools.lockGraph(db);
    this.metrics.graphLockWait.observe((performance.now() - waitStarted) / 1000);
    const states = await this.embeddings.loadStates(db, latest.map((e) => e.studentId), this.config.vectors.dimension);
    const decided: Decided[] = latest.map((event) => ({ event, decision: decideEvent(event, states.get(event.studentId)) }));
    const moved = decided.filter((d) => d.decision.action === 'recompute').map((d) => d.event);
    const removed = decided.filter((d) => d.decision.action === 'remove').map((d) => d.event);
    if (moved.length + removed.length === 0) return { decided, repairedLists: 0, refills: 0 };

    const leaving = decided.filter((d) => d.decision.action === 'remove' && d.decision.deleteEmbedding);
    await this.embeddings.deleteUpTo(db, leaving.map(({ event }) => ({ studentId: event.studentId, version: event.version! })));
    const change = { moved, removed, ids: new Set([...moved, ...removed].map((e) => e.studentId)) };
    const { freshPools: searchedPools, nearest, catchUpOffers } = await this.freshPools(db, moved, states, ahead);
    await this.changeLog.record(db, [...change.ids]);
    const { affected, offers } = await this.findOffers(db, change, nearest);
    offers.push(...catchUpOffers);
    const freshPools = refineFreshPools(searchedPools, offers, new Set(removed.map((e) => e.studentId)), this.settings);
    const repaired = await this.repairAffected(db, affected, change.ids, offers);

    const eventOf = new Map([...moved, ...removed].map((e) => [e.studentId, e.eventId]));
    const firstOfferTo = new Map<string, string>();
    for (const offer of offers) if (!firstOfferTo.has(offer.studentId)) firstOfferTo.set(offer.studentId, offer.candidate.studentId);
    const { k } = this.settings;
    const poolsToSave = new Map(freshPools);
    const lists: NeighborListWrite[] = [
      ...moved.map((e) => ({ studentId: e.studentId, eventId: e.eventId, neighbors: publicNeighbors(freshPools.get(e.studentId)!, k) })),
      ...removed.map((e) => ({ studentId: e.studentId, eventId: e.eventId, neighbors: [] })),
    ];
    const repairedLists: NeighborListChange[] = [];
    for (const [studentId, pool] of repaired.pools) {
      const stored = affected.get(studentId)!;
      if (samePool(pool, stored)) continue;
      poolsToSave.set(studentId, pool);
      const { upserts, removals } = listChange(publicNeighbors(stored, k), publicNeighbors(pool, k));
      if (upserts.length + removals.length > 0) {
        const cause = stored.entries.find((n) => change.ids.has(n.studentId))?.studentId ?? firstOfferTo.get(studentId)!;
        repairedLists.push({ studentId, eventId: eventOf.get(cause)!, upserts, removals });
      }
    }
    const ownBefore = await this.pools.load(db, moved.map((e) => e.studentId));
    await this.pools.save(db, poolsToSave, new Map([...affected, ...ownBefore]));
    await this.pools.delete(db, removed.map((e) => e.studentId));
    await this.similarities.replaceLists(db, lists);
    await this.similarities.applyChanges(db, repairedLists);
    return { decided, repairedLists: repairedLists.length, refills: repaired.refills };
  }

  /**
   * The moved students' own searches. In index mode the search reaches further than the pool:
   * beyond it, the students whose pools the moved one may enter are the candidates for reverse
   * repair.
   */
  private async searchMoved(db: EntityManager, studentIds: string[]): Promise<Map<string, NearestAndEntering>> {
    const { capacity, threshold } = this.settings;
    const { candidateSearch: mode, reverseCandidates: reach } = this.config.graph;
    return this.searchPools(db, studentIds, { mode, threshold, poolSize: capacity, reach });
  }

  private async searchPools(db: EntityManager, studentIds: string[], request: PoolSearchRequest): Promise<Map<string, NearestAndEntering>> {
    const { found, lostWalks } = await this.poolSearch.search(db, studentIds, request);
    this.metrics.indexWalksLost.inc({ found_by: 'wider_walk' }, lostWalks.foundByWiderWalk);
    this.metrics.indexWalksLost.inc({ found_by: 'exact_search' }, lostWalks.searchedExactly);
    return found;
  }

  /**
   * The moved students' own pools and nearest, from the search made before the lock, caught up
   * with the students changed since; searched again here where that cannot be done (the
   * student's embedding changed since, or the change log no longer reaches back), and refilled
   * where catching up left a pool short. Also returns the catch-up's offers of the moved
   * students to the changed students' pools.
   */
  private async freshPools(db: EntityManager, moved: EmbeddingEvent[], states: Map<string, EmbeddingState>, ahead: SearchAhead) {
    const { capacity, threshold } = this.settings;
    const changedSince = await this.changeLog.changedSince(db, ahead.position);
    const movedIds = new Set(moved.map((e) => e.studentId));
    const current = (id: string) => changedSince !== null && ahead.versions.get(id) === states.get(id)!.version;
    const others = [...(changedSince ?? [])].filter((id) => !movedIds.has(id));
    const othersSet = new Set(others);
    const searched = [...movedIds].filter(current);
    const nearest = new Map(searched.map((id) => [id, { ...ahead.nearest.get(id)!, neighbors: ahead.nearest.get(id)!.neighbors.filter((n) => !othersSet.has(n.studentId)) }]));
    const searchedPools = new Map(searched.map((id) => [id, poolFromSearch(ahead.nearest.get(id)!.neighbors, capacity, threshold)]));
    const pairs = await this.pools.catchUpPairs(db, searched.map((id) => ({ studentId: id, reach: searchedPools.get(id)!.bound?.similarity ?? threshold })), others, threshold);
    const caughtUp = repairPools(searchedPools, othersSet, pairs.map((p) => ({ studentId: p.studentId, candidate: { studentId: p.otherId, similarity: p.similarity } })), this.settings);
    const searchAgain = [...movedIds].filter((id) => !current(id) || caughtUp.get(id)!.needsRefill);
    for (const [id, found] of await this.searchMoved(db, searchAgain)) nearest.set(id, found);
    const freshPools = new Map(
      [...movedIds].map((id) => [id, caughtUp.has(id) && !caughtUp.get(id)!.needsRefill ? caughtUp.get(id)!.pool : poolFromSearch(nearest.get(id)?.neighbors ?? [], capacity, threshold)]),
    );
    const catchUpOffers: PoolOffer[] = pairs.map((p) => ({ studentId: p.otherId, candidate: { studentId: p.studentId, similarity: p.similarity } }));
    return { freshPools, nearest, catchUpOffers };
  }

  /**
   * The pools the change touches, and what to offer them: a changed student leaves every pool
   * that held it, and a moved one is offered back at its new similarity; a moved student is also
   * offered to every pool it may newly enter, found exactly (a scan against every pool's bound)
   * or from its own nearest (cosine is symmetric, so most reverse neighbours are forward ones)
   * and from the pools that hold its nearest (seeds).
   */
  private async findOffers(db: EntityManager, change: { moved: EmbeddingEvent[]; ids: Set<string> }, nearest: Map<string, NearestAndEntering>) {
    const changedIds = [...change.ids];
    const movedIds = change.moved.map((e) => e.studentId);
    const affected = await this.pools.loadHolding(db, changedIds);
    const heldPairs = [...affected].flatMap(([studentId, pool]) =>
      pool.entries.filter((n) => change.ids.has(n.studentId)).map((n) => ({ studentId, otherId: n.studentId })),
    );
    const offers: PoolOffer[] = (await this.embeddings.pairSimilarities(db, heldPairs)).map((p) => ({
      studentId: p.studentId,
      candidate: { studentId: p.otherId, similarity: p.similarity },
    }));
    if (this.config.graph.candidateSearch === 'exact') {
      offers.push(...(await this.pools.exactReverseOffers(db, movedIds, changedIds, this.settings.threshold)));
    } else {
      for (const [movedId, { neighbors }] of nearest) {
        for (const n of neighbors) offers.push({ studentId: n.studentId, candidate: { studentId: movedId, similarity: n.similarity } });
      }
      const seedCounts = { usual: this.config.graph.reverseSeeds, dense: this.config.graph.denseReverseSeeds };
      const seeds = [...nearest].flatMap(([candidateId, walk]) =>
        walk.neighbors.slice(0, reverseSeedCount(walk, this.settings.capacity, seedCounts)).map((n) => ({ candidateId, seedId: n.studentId, reach: walk.reach })),
      );
      offers.push(...(await this.pools.reverseOffersThroughSeeds(db, seeds, this.settings.threshold)));
    }
    // Most candidates' pools would ignore the offer: read their bounds first, whole pools only
    // where the offer enters.
    const notLoaded = [...new Set(offers.map((o) => o.studentId))].filter((id) => !affected.has(id) && !change.ids.has(id));
    const bounds = await this.pools.loadBounds(db, notLoaded);
    const { threshold } = this.settings;
    const entering = new Set(offers.filter((o) => bounds.has(o.studentId) && offerEnters(o.candidate, bounds.get(o.studentId)!, threshold)).map((o) => o.studentId));
    for (const [id, pool] of await this.pools.load(db, [...entering])) affected.set(id, pool);
    return { affected, offers };
  }

  /** Applies the pool rules, then searches afresh for the pools that fell below K. */
  private async repairAffected(db: EntityManager, affected: Map<string, NeighborPool>, changedIds: Set<string>, offers: PoolOffer[]) {
    const { capacity, threshold } = this.settings;
    const repaired = repairPools(affected, changedIds, offers, this.settings);
    const refillIds = [...repaired].filter(([, r]) => r.needsRefill).map(([id]) => id);
    const refilled = await this.searchPools(db, refillIds, { mode: this.config.graph.candidateSearch, threshold, poolSize: capacity, reach: capacity });
    const pools = new Map(
      [...repaired].map(([id, r]) => [id, r.needsRefill ? poolFromSearch(refilled.get(id)?.neighbors ?? [], capacity, threshold) : r.pool]),
    );
    return { pools, refills: refillIds.length };
  }

  private logDecision(event: EmbeddingEvent, decision: EventDecision, durationMs: number): void {
    const fields = { studentId: event.studentId, eventId: event.eventId, batchMs: Math.round(durationMs * 10) / 10 };
    if (decision.action === 'recompute') this.logger.info(fields, 'similarity updated');
    else if (decision.action === 'remove') this.logger.info({ ...fields, reason: decision.reason }, 'student removed from the graph');
    else this.logger.info({ ...fields, storedVersion: decision.storedVersion, eventVersion: event.version }, 'stale event ignored');
  }
}
