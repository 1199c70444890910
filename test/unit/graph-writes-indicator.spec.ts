import { HealthIndicatorService } from '@nestjs/terminus';
import { GraphWritesIndicator } from '../../src/health/graph-writes.indicator';
import { GraphWriteStatus } from '../../src/similarity/graph-write-status';

describe('the graph_writes readiness indicator', () => {
  it('is up while writes go through, down with the SQLSTATE and the reason while they are refused, and up again once they resume', () => {
    const status = new GraphWriteStatus();
    const indicator = new GraphWritesIndicator(new HealthIndicatorService(), status);
    const batch = {};
    expect(indicator.ready('graph_writes')).toEqual({ graph_writes: { status: 'up' } });

    status.refused(batch, { sqlstate: '42P01', reason: 'relation "student_similarity" does not exist: repair the schema' });
    expect(indicator.ready('graph_writes')).toEqual({
      graph_writes: { status: 'down', sqlstate: '42P01', reason: 'relation "student_similarity" does not exist: repair the schema', since: new Date(status.current()!.since).toISOString() },
    });

    status.settled(batch);
    expect(indicator.ready('graph_writes')).toEqual({ graph_writes: { status: 'up' } });
  });
});
