import { Inject, Injectable } from '@nestjs/common';
import { PinoLogger } from 'nestjs-pino';
import { EntityManager } from 'typeorm';
import { AppConfig } from '../config/app-config';
import { APP_CONFIG } from '../config/config.module';
import { TransactionRunner } from '../database/transaction-runner';
import { WorkerMetrics } from '../metrics/worker-metrics';
import { EmbeddingEvent, Rejection } from './dto/embedding-event';
import { EmbeddingRepository } from './embedding.repository';
import { coalesceByStudent } from './graph/coalesce-events';
import { decideEvent, EventDecision } from './graph/event-decision';
import { NeighborPool, poolFromSearch, publicNeighbors, samePool } from './graph/neighbor-pool';
import { PoolOffer, PoolSettings, repairPools } from './graph/repair-pools';
import { NeighborPoolRepository } from './neighbor-pool.repository';
import { NeighborListWrite, SimilarityRepository } from './similarity.repository';

export interface BatchOutcome {
  events: number;
  recomputed: number;
  removed: number;
  stale: number;
  /** Other students whose public list changed because of the batch. */
  repairedLists: number;
  /** Other students whose pool fell short and needed a fresh search. */
  refills: number;
  /** Events whose student was taken out because its vector is unusable: for the dead-letter topic. */
  rejected: { event: EmbeddingEvent; rejection: Rejection }[];
  durationMs: number;
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
    this.metrics.batchSize.observe(events.length);
    this.metrics.eventsApplied.inc({ outcome: 'recomputed' }, count('recompute'));
    this.metrics.eventsApplied.inc({ outcome: 'removed' }, count('remove'));
    this.metrics.eventsApplied.inc({ outcome: 'stale' }, count('stale'));
    this.metrics.eventsApplied.inc({ outcome: 'coalesced' }, events.length - latest.length);
    this.metrics.listsRepaired.inc(result.repairedLists);
    this.metrics.refills.inc(result.refills);
    return {
      events: events.length,
      recomputed: count('recompute'),
      removed: count('remove'),
      stale: count('stale'),
      repairedLists: result.repairedLists,
      refills: result.refills,
      rejected: result.decided.flatMap(({ event, decision }) =>
        decision.action === 'remove' && (decision.reason === 'zero vector' || decision.reason === 'wrong dimension')
          ? [{ event, rejection: unusableEmbedding(decision.reason, this.config.vectors.dimension) }]
          : [],
      ),
      durationMs,
    };
  }

  private async applyInTransaction(db: EntityManager, latest: EmbeddingEvent[]) {
    const settings = this.settings;
    const mode = this.config.graph.candidateSearch;
    await this.pools.lockGraph(db);

    const states = await this.embeddings.loadStates(db, latest.map((e) => e.studentId), this.config.vectors.dimension);
    const decided: Decided[] = latest.map((event) => ({ event, decision: decideEvent(event, states.get(event.studentId)) }));
    const moved = decided.filter((d) => d.decision.action === 'recompute').map((d) => d.event);
    const removed = decided.filter((d) => d.decision.action === 'remove').map((d) => d.event);
    const changed = [...moved, ...removed];
    if (changed.length === 0) return { decided, repairedLists: 0, refills: 0 };

    const changedIds = changed.map((e) => e.studentId);
    const changedSet = new Set(changedIds);
    const movedIds = moved.map((e) => e.studentId);
    const eventOf = new Map(changed.map((e) => [e.studentId, e.eventId]));
    const deletedRows = decided.filter((d) => d.decision.action === 'remove' && d.decision.deleteEmbedding);
    await this.embeddings.deleteUpTo(db, deletedRows.map(({ event }) => ({ studentId: event.studentId, version: event.version! })));

    // The moved students' own pools, searched afresh; in index mode the search reaches further,
    // since its results are also the candidates for reverse repair.
    const limit = mode === 'exact' ? settings.capacity : Math.max(settings.capacity, this.config.graph.reverseCandidates);
    const searched = await this.embeddings.nearest(db, movedIds, { limit, threshold: settings.threshold, mode });
    const freshPools = new Map(movedIds.map((id) => [id, poolFromSearch(searched.get(id) ?? [], settings.capacity, settings.threshold)]));

    // Pools that held a changed student: it leaves them, and a moved one is offered back at its new similarity.
    const affected = await this.pools.loadHolding(db, changedIds);
    const heldPairs = [...affected].flatMap(([studentId, pool]) =>
      pool.entries.filter((n) => changedSet.has(n.studentId)).map((n) => ({ studentId, otherId: n.studentId })),
    );
    const offers: PoolOffer[] = (await this.embeddings.pairSimilarities(db, heldPairs)).map((p) => ({
      studentId: p.studentId,
      candidate: { studentId: p.otherId, similarity: p.similarity },
    }));

    // Pools a moved student may newly enter: exactly (a scan against every pool's bound), or from
    // its own fresh pool (cosine is symmetric, so most reverse neighbours are forward ones).
    if (mode === 'exact') {
      offers.push(...(await this.pools.exactReverseOffers(db, movedIds, changedIds, settings.threshold)));
    } else {
      for (const [movedId, nearest] of searched) {
        for (const n of nearest) offers.push({ studentId: n.studentId, candidate: { studentId: movedId, similarity: n.similarity } });
      }
    }
    const notLoaded = [...new Set(offers.map((o) => o.studentId))].filter((id) => !affected.has(id) && !changedSet.has(id));
    for (const [id, pool] of await this.pools.load(db, notLoaded)) affected.set(id, pool);

    const repaired = repairPools(affected, changedSet, offers, settings);
    const firstOfferTo = new Map<string, string>();
    for (const offer of offers) if (!firstOfferTo.has(offer.studentId)) firstOfferTo.set(offer.studentId, offer.candidate.studentId);
    const refillIds = [...repaired].filter(([, r]) => r.needsRefill).map(([id]) => id);
    const refilled = await this.embeddings.nearest(db, refillIds, { limit: settings.capacity, threshold: settings.threshold, mode });

    const poolsToSave = new Map(freshPools);
    const lists: NeighborListWrite[] = moved.map((e) => ({ studentId: e.studentId, eventId: e.eventId, neighbors: publicNeighbors(freshPools.get(e.studentId)!, settings.k) }));
    lists.push(...removed.map((e) => ({ studentId: e.studentId, eventId: e.eventId, neighbors: [] })));
    for (const [studentId, outcome] of repaired) {
      const pool: NeighborPool = outcome.needsRefill ? poolFromSearch(refilled.get(studentId) ?? [], settings.capacity, settings.threshold) : outcome.pool;
      const stored = affected.get(studentId)!;
      if (samePool(pool, stored)) continue;
      poolsToSave.set(studentId, pool);
      const before = publicNeighbors(stored, settings.k);
      const after = publicNeighbors(pool, settings.k);
      if (!samePool({ entries: before, bound: null }, { entries: after, bound: null })) {
        const cause = stored.entries.find((n) => changedSet.has(n.studentId))?.studentId ?? firstOfferTo.get(studentId)!;
        lists.push({ studentId, eventId: eventOf.get(cause)!, neighbors: after });
      }
    }
    await this.pools.save(db, poolsToSave);
    await this.pools.delete(db, removed.map((e) => e.studentId));
    await this.similarities.replaceLists(db, lists);
    return { decided, repairedLists: lists.length - changed.length, refills: refillIds.length };
  }

  private logDecision(event: EmbeddingEvent, decision: EventDecision, durationMs: number): void {
    const fields = { studentId: event.studentId, eventId: event.eventId, partition: event.partition, offset: event.offset, batchMs: Math.round(durationMs * 10) / 10 };
    if (decision.action === 'recompute') this.logger.info(fields, 'similarity updated');
    else if (decision.action === 'remove') this.logger.info({ ...fields, reason: decision.reason }, 'student removed from the graph');
    else this.logger.info({ ...fields, storedVersion: decision.storedVersion, eventVersion: event.version }, 'stale event ignored');
  }
}

function unusableEmbedding(defect: 'zero vector' | 'wrong dimension', dimension: number): Rejection {
  return defect === 'zero vector'
    ? { category: 'zero-vector', reason: 'embedding is a zero vector (cosine similarity is undefined); the student is left out of the graph' }
    : { category: 'wrong-dimension', reason: `embedding does not have ${dimension} dimensions; the student is left out of the graph` };
}
