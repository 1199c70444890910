import { Inject, Injectable } from '@nestjs/common';
import { ExponentialBackoff, handleWhen, retry } from 'cockatiel';
import { PinoLogger } from 'nestjs-pino';
import { AppConfig } from '../config/app-config';
import { APP_CONFIG } from '../config/config.module';
import { BatchControl } from '../kafka/kafka-record';
import { WorkerMetrics } from '../metrics/worker-metrics';
import { EmbeddingEvent } from './dto/embedding-event';
import { RepairMessage } from './graph/repair-protocol';
import { applyFailure, Rejection } from './rejections';
import { blockedWriteReason, classifyFailure, databaseErrorOf, retriedWhileItLasts } from './failure-classification';
import { GraphWriteStatus, GraphWriteTransition } from './graph-write-status';
import { EventTimestamps, RepairBatchResult, SimilarityService } from './similarity.service';

export interface AppliedBatch {
  /** Events that cannot be applied, each with its reason, for the dead-letter topic. */
  rejected: { event: EmbeddingEvent; rejection: Rejection }[];
}

export class ConsumerStoppingError extends Error {
  constructor() {
    super('the consumer is stopping; the batch will be redelivered');
  }
}

/**
 * Applies a batch with the error policy of failure-classification: retries while PostgreSQL is
 * unavailable or refuses the writes (heartbeating so the group keeps the partition), retries
 * conflicts a bounded number of times, and isolates permanent failures by splitting the batch
 * until the failing event is alone. Events are never skipped silently: each either lands in the
 * graph or is returned as rejected with a reason. Refused writes are reported (GraphWriteStatus,
 * the blocked gauge, one log line when they start and one when they end), since the database
 * ping cannot see them. A fenced batch (another worker took the partition) is neither retried
 * nor split: the error propagates, the offsets stay, and the partition's new owner applies it.
 * Repair batches go through the same retries but are never split nor dead-lettered (they are
 * internal, and judging them is idempotent): what the retries do not resolve propagates.
 */
@Injectable()
export class ResilientEventApplier {
  constructor(
    private readonly similarity: SimilarityService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly metrics: WorkerMetrics,
    private readonly writeStatus: GraphWriteStatus,
    private readonly logger: PinoLogger,
  ) {
    logger.setContext(ResilientEventApplier.name);
  }

  async apply(partition: number, events: EmbeddingEvent[], control: BatchControl, timestampOf?: EventTimestamps): Promise<AppliedBatch> {
    if (events.length === 0) return { rejected: [] };
    try {
      const outcome = await this.withRetries(() => this.similarity.applyEvents(partition, events, timestampOf), control);
      return { rejected: outcome.rejected };
    } catch (error) {
      if (error instanceof ConsumerStoppingError) throw error;
      const kind = classifyFailure(error);
      if (kind === 'fenced') this.logger.warn({ partition, events: events.length, err: error }, 'batch abandoned: another worker owns the partition now and applies it');
      if (retriedWhileItLasts(kind) || kind === 'fenced') throw error;
      if (events.length === 1) {
        this.logger.error({ studentId: events[0].studentId, eventId: events[0].eventId, err: error }, 'event cannot be applied');
        return { rejected: [{ event: events[0], rejection: applyFailure(kind, error as Error) }] };
      }
      this.logger.warn({ events: events.length, err: error }, 'batch failed; splitting it to isolate the failing event');
      const middle = Math.ceil(events.length / 2);
      const first = await this.apply(partition, events.slice(0, middle), control, timestampOf);
      const second = await this.apply(partition, events.slice(middle), control, timestampOf);
      return { rejected: [...first.rejected, ...second.rejected] };
    }
  }

  /** Judges a batch of repair messages under the retry policy; whatever the retries do not resolve propagates (the batch is redelivered). */
  async applyRepairs(partition: number, messages: RepairMessage[], control: BatchControl): Promise<RepairBatchResult> {
    if (messages.length === 0) return { judged: 0, refills: 0, listsWritten: 0 };
    return this.withRetries(() => this.similarity.applyRepairs(partition, messages), control);
  }

  private async withRetries<T>(work: () => Promise<T>, control: BatchControl): Promise<T> {
    const { maxAttempts, initialDelayMs, maxDelayMs } = this.config.retry;
    // This batch's retries, as GraphWriteStatus counts them.
    const batch = {};
    let conflicts = 0;
    let refusals = 0;
    const policy = retry(
      handleWhen((error) => {
        if (!control.isActive()) return false;
        const kind = classifyFailure(error);
        if (kind === 'transient') conflicts++;
        return retriedWhileItLasts(kind) || (kind === 'transient' && conflicts < maxAttempts);
      }),
      { maxAttempts: Number.MAX_SAFE_INTEGER, backoff: new ExponentialBackoff({ initialDelay: initialDelayMs, maxDelay: maxDelayMs }) },
    );
    policy.onRetry(({ delay, attempt, ...reason }) => {
      const error = 'error' in reason ? reason.error : undefined;
      const kind = classifyFailure(error);
      this.metrics.retries.inc({ kind });
      if (kind === 'blocked') {
        refusals++;
        this.writesRefused(batch, error);
        // Said once at error level when the block starts; each retry would only repeat it.
        this.logger.debug({ attempt, delayMs: Math.round(delay), kind, err: error }, 'graph writes refused; retrying');
      } else {
        this.logger.warn({ attempt, delayMs: Math.round(delay), kind, err: error }, 'batch failed; retrying');
      }
      void control.heartbeat().catch(() => undefined);
    });
    let applied = false;
    try {
      const outcome = await policy.execute(async () => {
        if (!control.isActive()) throw new ConsumerStoppingError();
        return work();
      });
      applied = true;
      return outcome;
    } finally {
      if (refusals > 0) this.writesSettled(batch, applied, refusals);
    }
  }

  private writesRefused(batch: object, error: unknown): void {
    const { sqlstate, message } = databaseErrorOf(error) ?? { sqlstate: 'unknown', message: String((error as Error)?.message ?? error) };
    const reason = blockedWriteReason(sqlstate, message);
    const transition = this.writeStatus.refused(batch, { sqlstate, reason });
    if (transition !== 'unchanged') this.logBlocked();
    this.showBlockedGauge(transition);
  }

  private writesSettled(batch: object, applied: boolean, refusals: number): void {
    const blockedSince = this.writeStatus.current()?.since ?? Date.now();
    const transition = this.writeStatus.settled(batch);
    const seconds = Math.round((Date.now() - blockedSince) / 1000);
    // At warn, not info: whoever sees the error line when the block starts must see it end.
    if (transition === 'cleared' && applied) this.logger.warn({ refusals, blockedSeconds: seconds }, `graph writes resumed after ${seconds} s blocked: the batch applied after ${refusals} refusals`);
    else if (transition === 'cleared') this.logger.warn({ refusals, blockedSeconds: seconds }, 'graph writes no longer reported as blocked: the blocked batch left this consumer before it could be applied (stopping, rebalanced or failed otherwise)');
    else if (transition === 'fault-changed') this.logBlocked();
    this.showBlockedGauge(transition);
  }

  private logBlocked(): void {
    const { sqlstate, reason } = this.writeStatus.current()!;
    this.logger.error({ sqlstate, reason }, `graph writes blocked (SQLSTATE ${sqlstate}): ${reason}; the batch is retried until they resume, nothing is dead-lettered`);
  }

  private showBlockedGauge(transition: GraphWriteTransition): void {
    if (transition === 'unchanged') return;
    const block = this.writeStatus.current();
    this.metrics.graphWritesBlocked.reset();
    if (block) this.metrics.graphWritesBlocked.set({ sqlstate: block.sqlstate }, 1);
    else this.metrics.graphWritesBlocked.set(0);
  }
}
