import { consumerLivenessProblem } from '../../src/health/consumer-liveness';
import { ConsumerSnapshot } from '../../src/kafka/consumer-status';

const settings = { stallTimeoutMs: 60000, maxReadingAgeMs: 30000 };
const now = 1_000_000;
const running = (lastProgressAt: number, assignedPartitions = [0, 2]): ConsumerSnapshot => ({ phase: 'running', detail: null, assignedPartitions, lastProgressAt });
const lag = (readAt: number, byPartition: Record<number, number>) => ({ readAt, partitions: Object.entries(byPartition).map(([p, l]) => ({ partition: Number(p), lag: l, byTopic: { events: l } })) });

describe('consumerLivenessProblem', () => {
  it('is dead once the consumer stopped for good, and says why', () => {
    const failed: ConsumerSnapshot = { phase: 'failed', detail: 'KafkaJSNonRetriableError: The coordinator is not aware of this member', assignedPartitions: [], lastProgressAt: now };
    expect(consumerLivenessProblem(failed, null, now, settings)).toMatch(/stopped: KafkaJSNonRetriableError/);
  });

  it('is dead when its own partitions have records waiting and nothing progressed for the stall timeout', () => {
    expect(consumerLivenessProblem(running(now - 61000), lag(now - 1000, { 0: 5, 1: 0, 2: 0 }), now, settings)).toMatch(/no progress for 61 s with 5 records waiting/);
  });

  it('stays alive while progress is recent', () => {
    expect(consumerLivenessProblem(running(now - 59000), lag(now - 1000, { 0: 5 }), now, settings)).toBeNull();
  });

  it('ignores lag on partitions another replica owns', () => {
    expect(consumerLivenessProblem(running(now - 600000), lag(now - 1000, { 0: 0, 1: 9000, 2: 0 }), now, settings)).toBeNull();
  });

  it('does not judge from a stale reading (Kafka unreachable) or one taken before the last progress', () => {
    expect(consumerLivenessProblem(running(now - 600000), lag(now - 31000, { 0: 5 }), now, settings)).toBeNull();
    expect(consumerLivenessProblem(running(now - 61000), lag(now - 62000, { 0: 5 }), now, { ...settings, maxReadingAgeMs: 100000 })).toBeNull();
  });

  it('stays alive while starting, waiting for a topic or restarting', () => {
    for (const phase of ['starting', 'waiting-for-topic', 'restarting'] as const) {
      expect(consumerLivenessProblem({ phase, detail: null, assignedPartitions: [], lastProgressAt: 0 }, lag(now, { 0: 100 }), now, settings)).toBeNull();
    }
  });
});
