import { Inject, Injectable } from '@nestjs/common';
import { ExponentialBackoff, handleWhen, retry } from 'cockatiel';
import { PinoLogger } from 'nestjs-pino';
import { AppConfig } from '../config/app-config';
import { APP_CONFIG } from '../config/config.module';
import { BatchControl } from '../kafka/kafka-record';
import { WorkerMetrics } from '../metrics/worker-metrics';
import { EmbeddingEvent } from './dto/embedding-event';
import { applyFailure, Rejection } from './rejections';
import { classifyFailure } from './failure-classification';
import { SimilarityService } from './similarity.service';

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
 * unavailable (heartbeating so the group keeps the partition), retries conflicts a bounded number
 * of times, and isolates permanent failures by splitting the batch until the failing event is
 * alone. Events are never skipped silently: each either lands in the graph or is returned as
 * rejected with a reason.
 */
@Injectable()
export class ResilientEventApplier {
  constructor(
    private readonly similarity: SimilarityService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly metrics: WorkerMetrics,
    private readonly logger: PinoLogger,
  ) {
    logger.setContext(ResilientEventApplier.name);
  }

  async apply(events: EmbeddingEvent[], control: BatchControl): Promise<AppliedBatch> {
    if (events.length === 0) return { rejected: [] };
    try {
      const outcome = await this.withRetries(events, control);
      return { rejected: outcome.rejected };
    } catch (error) {
      if (error instanceof ConsumerStoppingError) throw error;
      const kind = classifyFailure(error);
      if (kind === 'unavailable') throw error;
      if (events.length === 1) {
        this.logger.error({ studentId: events[0].studentId, eventId: events[0].eventId, err: error }, 'event cannot be applied');
        return { rejected: [{ event: events[0], rejection: applyFailure(kind, error as Error) }] };
      }
      this.logger.warn({ events: events.length, err: error }, 'batch failed; splitting it to isolate the failing event');
      const middle = Math.ceil(events.length / 2);
      const first = await this.apply(events.slice(0, middle), control);
      const second = await this.apply(events.slice(middle), control);
      return { rejected: [...first.rejected, ...second.rejected] };
    }
  }

  private async withRetries(events: EmbeddingEvent[], control: BatchControl) {
    const { maxAttempts, initialDelayMs, maxDelayMs } = this.config.retry;
    let conflicts = 0;
    const policy = retry(
      handleWhen((error) => {
        if (!control.isActive()) return false;
        const kind = classifyFailure(error);
        if (kind === 'transient') conflicts++;
        return kind === 'unavailable' || (kind === 'transient' && conflicts < maxAttempts);
      }),
      { maxAttempts: Number.MAX_SAFE_INTEGER, backoff: new ExponentialBackoff({ initialDelay: initialDelayMs, maxDelay: maxDelayMs }) },
    );
    policy.onRetry(({ delay, attempt, ...reason }) => {
      const error = 'error' in reason ? reason.error : undefined;
      const kind = classifyFailure(error);
      this.metrics.retries.inc({ kind });
      this.logger.warn({ attempt, delayMs: Math.round(delay), kind, err: error }, 'batch failed; retrying');
      void control.heartbeat().catch(() => undefined);
    });
    return policy.execute(async () => {
      if (!control.isActive()) throw new ConsumerStoppingError();
      return this.similarity.applyEvents(events);
    });
  }
}

