import { Inject, Injectable } from '@nestjs/common';
import { PinoLogger } from 'nestjs-pino';
import { AppConfig } from '../config/app-config';
import { APP_CONFIG } from '../config/config.module';
import { TransactionRunner } from '../database/transaction-runner';
import { EmbeddingEvent } from './dto/embedding-event';
import { EmbeddingRepository } from './embedding.repository';
import { coalesceByStudent } from './graph/coalesce-events';
import { decideEvent, EventDecision } from './graph/event-decision';
import { topNeighbors } from './graph/neighbor';
import { SimilarityRepository } from './similarity.repository';

export interface BatchOutcome {
  events: number;
  recomputed: number;
  removed: number;
  stale: number;
  durationMs: number;
}

/** The use case: apply a batch of embedding events to the similarity graph, atomically. */
@Injectable()
export class SimilarityService {
  constructor(
    private readonly transactions: TransactionRunner,
    private readonly embeddings: EmbeddingRepository,
    private readonly similarities: SimilarityRepository,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly logger: PinoLogger,
  ) {
    logger.setContext(SimilarityService.name);
  }

  async applyEvents(events: EmbeddingEvent[]): Promise<BatchOutcome> {
    const started = performance.now();
    const latest = coalesceByStudent(events);
    const { threshold, maxNeighbors } = this.config.graph;

    const decisions = await this.transactions.run(async (db) => {
      const states = await this.embeddings.loadStates(db, latest.map((e) => e.studentId));
      const decided = latest.map((event) => ({ event, decision: decideEvent(event, states.get(event.studentId)) }));
      const toRecompute = decided.filter((d) => d.decision.action === 'recompute').map((d) => d.event);
      const toRemove = decided.filter((d) => d.decision.action === 'remove').map((d) => d.event.studentId);

      if (toRemove.length > 0) await this.similarities.removeStudents(db, toRemove);
      const found = await this.embeddings.nearest(db, toRecompute.map((e) => e.studentId), {
        limit: maxNeighbors,
        threshold,
        mode: this.config.graph.candidateSearch,
      });
      await this.similarities.replaceLists(
        db,
        toRecompute.map((event) => ({
          studentId: event.studentId,
          eventId: event.eventId,
          neighbors: topNeighbors(event.studentId, found.get(event.studentId) ?? [], maxNeighbors, threshold),
        })),
      );
      return decided;
    });

    const durationMs = performance.now() - started;
    for (const { event, decision } of decisions) this.logDecision(event, decision, durationMs);
    return {
      events: events.length,
      recomputed: decisions.filter((d) => d.decision.action === 'recompute').length,
      removed: decisions.filter((d) => d.decision.action === 'remove').length,
      stale: decisions.filter((d) => d.decision.action === 'stale').length,
      durationMs,
    };
  }

  private logDecision(event: EmbeddingEvent, decision: EventDecision, durationMs: number): void {
    const fields = { studentId: event.studentId, eventId: event.eventId, partition: event.partition, offset: event.offset, processingMs: Math.round(durationMs * 10) / 10 };
    if (decision.action === 'recompute') this.logger.info(fields, 'similarity updated');
    else if (decision.action === 'remove') this.logger.info({ ...fields, reason: decision.reason }, 'student removed from the graph');
    else this.logger.info({ ...fields, storedVersion: decision.storedVersion, eventVersion: event.version }, 'stale event ignored');
  }
}
