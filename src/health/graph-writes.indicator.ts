import { Injectable } from '@nestjs/common';
import { HealthIndicatorService } from '@nestjs/terminus';
import { GraphWriteStatus } from '../similarity/graph-write-status';

/**
 * Whether this replica can write the graph, as its last batches found out: down while the
 * database refuses the writes for a reason no retry repairs (a missing table, a revoked grant),
 * with the SQLSTATE and what to repair. The database ping cannot see such faults: it still
 * answers. Read from GraphWriteStatus; no query per probe.
 */
@Injectable()
export class GraphWritesIndicator {
  constructor(
    private readonly health: HealthIndicatorService,
    private readonly status: GraphWriteStatus,
  ) {}

  ready<Key extends string>(key: Key) {
    const indicator = this.health.check(key);
    const block = this.status.current();
    if (!block) return indicator.up();
    return indicator.down({ sqlstate: block.sqlstate, reason: block.reason, since: new Date(block.since).toISOString() });
  }
}
