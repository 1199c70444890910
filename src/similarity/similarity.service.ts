import { Inject, Injectable } from '@nestjs/common';
import { PinoLogger } from 'nestjs-pino';
import { EntityManager } from 'typeorm';
import { AppConfig } from '../config/app-config';
import { APP_CONFIG } from '../config/config.module';
import { TransactionRunner } from '../database/transaction-runner';
import { WorkerMetrics } from '../metrics/worker-metrics';
import { EmbeddingEvent } from './dto/embedding-event';
import { Rejection, unusableEmbedding } from './rejections';
import { EmbeddingRepository } from './embedding.repository';
import { coalesceByStudent } from './graph/coalesce-events';
import { decideEvent, EventDecision } from './graph/event-decision';
import { Neighbor } from './graph/neighbor';
import { listChange, NeighborPool, offerEnters, poolFromSearch, publicNeighbors, samePool } from './graph/neighbor-pool';
import { PoolOffer, PoolSettings, repairPools } from './graph/repair-pools';
import { NeighborPoolRepository } from './neighbor-pool.repository';
import { NeighborListChange, NeighborListWrite, SimilarityRepository } from './similarity.repository';

export interface BatchOutcome {
  /** Events whose student was taken out because its vector is unusable: for the dead-letter topic. */
  rejected: { event: EmbeddingEvent; rejection: Rejection }[];
}

interface Decided {
  event: EmbeddingEvent;
  decision: EventDecision;
}

/**
 * The use case: apply a batch of embedding events to the similarity graph, in one transaction.
 * Every changed student is treated as a delete followed (for a move) by an insert: its own pool
 * is searched afresh; it is removed from every pool that held it and offered again, at its new
 * similarity, to every pool it may now enter; pools that fall short are refilled by a search.
 */
@Injectable()
export class SimilarityService {
  private longestBatchMs = 0;

  constructor(
    private readonly transactions: TransactionRunner,
    private readonly embeddings: EmbeddingRepository,
    private readonly pools: NeighborPoolRepository,
    private readonly similarities: SimilarityRepository,
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
    const latest = coalesceByStudent(events);
    const result = await this.transactions.run((db) => this.applyInTransaction(db, latest));
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

  private async applyInTransaction(db: EntityManager, latest: EmbeddingEvent[]) {
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
    const { freshPools, nearest } = await this.searchFreshPools(db, moved);
    const { affected, offers } = await this.findOffers(db, change, nearest);
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
   * The moved students' own pools, searched afresh. In index mode the search reaches further
   * than the pool, since its results are also the candidates for reverse repair.
   */
  private async searchFreshPools(db: EntityManager, moved: EmbeddingEvent[]) {
    const { capacity, threshold } = this.settings;
    const mode = this.config.graph.candidateSearch;
    const limit = mode === 'exact' ? capacity : Math.max(capacity, this.config.graph.reverseCandidates);
    const nearest = await this.embeddings.nearest(db, moved.map((e) => e.studentId), { limit, threshold, mode });
    const freshPools = new Map(moved.map((e) => [e.studentId, poolFromSearch(nearest.get(e.studentId) ?? [], capacity, threshold)]));
    return { freshPools, nearest };
  }

  /**
   * The pools the change touches, and what to offer them: a changed student leaves every pool
   * that held it, and a moved one is offered back at its new similarity; a moved student is also
   * offered to every pool it may newly enter, found exactly (a scan against every pool's bound)
   * or from its own nearest (cosine is symmetric, so most reverse neighbours are forward ones).
   */
  private async findOffers(db: EntityManager, change: { moved: EmbeddingEvent[]; ids: Set<string> }, nearest: Map<string, Neighbor[]>) {
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
      for (const [movedId, found] of nearest) {
        for (const n of found) offers.push({ studentId: n.studentId, candidate: { studentId: movedId, similarity: n.similarity } });
      }
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
    const refilled = await this.embeddings.nearest(db, refillIds, { limit: capacity, threshold, mode: this.config.graph.candidateSearch });
    const pools = new Map(
      [...repaired].map(([id, r]) => [id, r.needsRefill ? poolFromSearch(refilled.get(id) ?? [], capacity, threshold) : r.pool]),
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

