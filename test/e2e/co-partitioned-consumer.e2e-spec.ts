import { ConsumerStatus } from '../../src/kafka/consumer-status';
import { PartitionAssignment } from '../../src/kafka/partition-assignment';
import { committedLag } from '../support/group-progress';
import { TestEnvironment } from '../support/harness';
import { RepairRecorder, RepairRecorderModule } from '../support/repair-recorder.module';
import { waitFor } from '../support/wait-for';
import { freePort, WorkerProcess } from '../support/worker-process';

/** `perPartition` records on every partition of the repair topic, each naming where it was sent. */
async function produceRepairs(env: TestEnvironment, partitions: number, perPartition: number): Promise<string[]> {
  const values: string[] = [];
  const messages = Array.from({ length: partitions }, (_, partition) =>
    Array.from({ length: perPartition }, (_, i) => {
      const value = `repair-${partition}-${i}`;
      values.push(value);
      return { partition, key: null, value };
    }),
  ).flat();
  await env.producer.send({ topic: env.repairTopic, acks: -1, messages });
  return values.sort();
}

describe('one group consumes the event topic and its repair topic, co-partitioned', () => {
  const env = new TestEnvironment();

  // Three partitions over two members: kafkajs's round-robin assigner would split partition p's topics here.
  beforeAll(() => env.setUp(3));
  afterAll(() => env.tearDown());

  it('hands each worker the repair partitions equal to its event partitions, and every repair record once', async () => {
    const recorders = [new RepairRecorder(), new RepairRecorder()];
    const apps = [];
    for (const recorder of recorders) apps.push((await env.startWorker({}, { imports: [RepairRecorderModule.forRoot(recorder)] })).app);
    const assignments = apps.map((app) => app.get(PartitionAssignment));
    await waitFor(async () => {
      const { groups } = await env.admin.describeGroups([env.env.KAFKA_GROUP_ID]);
      return groups[0].state === 'Stable' && groups[0].members.length === 2;
    }, 'a stable group of two');
    const owned = await waitFor(async () => {
      const latest = assignments.map((a) => a.latest()?.partitions ?? []);
      return [...latest[0], ...latest[1]].sort().join() === '0,1,2' && latest.every((p) => p.length > 0) ? latest : null;
    }, 'both workers to share the three partitions');
    expect(assignments.map((a) => a.latest()!.partitionCount)).toEqual([3, 3]);
    // Readiness reports the event partitions once each, not once per topic.
    expect(apps.map((app) => app.get(ConsumerStatus).snapshot().assignedPartitions)).toEqual(owned);

    const produced = await produceRepairs(env, 3, 3);
    await waitFor(async () => recorders[0].values.length + recorders[1].values.length >= produced.length, 'every repair record to reach a handler');
    await waitFor(async () => (await committedLag(env, env.repairTopic)) === 0, 'the repair offsets to be committed', 30000);

    expect(recorders.map((r) => r.partitions)).toEqual(owned);
    expect([...recorders[0].values, ...recorders[1].values].sort()).toEqual(produced);
    // The co-partitioning held across the run: nobody rebalanced in between.
    expect(assignments.map((a) => a.latest()!.partitions)).toEqual(owned);
  });
});

describe('a batch waits until its partitions were taken', () => {
  const env = new TestEnvironment();

  beforeAll(() => env.setUp(2));
  afterAll(() => env.tearDown());

  it('hands no repair batch to a handler, nor commits one, before the assignment listener finished', async () => {
    const recorder = new RepairRecorder();
    let release!: () => void;
    const takenOver = new Promise<void>((resolve) => (release = resolve));
    const { app } = await env.startWorker({}, { imports: [RepairRecorderModule.forRoot(recorder, () => takenOver)] });
    const assignment = app.get(PartitionAssignment);
    const settled = jest.spyOn(assignment, 'settled');
    await waitFor(async () => assignment.latest()?.partitions.length === 2, 'the worker to join with both partitions');

    const produced = await produceRepairs(env, 2, 2);
    await waitFor(async () => settled.mock.calls.length > 0, 'a repair batch to reach the server');
    expect(recorder.values).toEqual([]);
    expect(await committedLag(env, env.repairTopic)).toBe(produced.length);

    release();
    await waitFor(async () => (await committedLag(env, env.repairTopic)) === 0, 'the repair offsets to be committed', 30000);
    expect(recorder.values.sort()).toEqual(produced);
  });
});

describe('the repair topic must match the event topic', () => {
  const env = new TestEnvironment();

  beforeAll(() => env.setUp(2, 3));
  afterAll(() => env.tearDown());

  it('never becomes ready with a repair topic of another partition count, and says why', async () => {
    const { app, url } = await env.startWorker();
    const status = app.get(ConsumerStatus).snapshot();
    expect(status.phase).toBe('failed');
    expect(status.detail).toBe(`repair topic ${env.repairTopic} has 3 partitions, input topic ${env.topic} has 2: they must be equal`);
    const ready = await fetch(`${url}/health/ready`);
    expect(ready.status).toBe(503);
    expect(await ready.text()).toContain('has 3 partitions');
  });

  it('exits with code 3, so that the orchestrator reports it instead of leaving a worker that consumes nothing', async () => {
    const worker = new WorkerProcess(env.env, await freePort());
    worker.launch();
    await waitFor(async () => worker.exits.length > 0, 'the worker process to exit', 60000);
    expect(worker.exits[0].code).toBe(3);
    expect(worker.output).toContain(`repair topic ${env.repairTopic} has 3 partitions`);
  });
});

describe('KAFKA_CREATE_TOPICS creates the repair topic', () => {
  const env = new TestEnvironment({ KAFKA_CREATE_TOPICS: 'true', KAFKA_TOPIC_PARTITIONS: '5' });

  beforeAll(() => env.setUp(2, null));
  afterAll(() => env.tearDown());

  it("with the event topic's partition count, not KAFKA_TOPIC_PARTITIONS", async () => {
    const { url } = await env.startWorker();
    await waitFor(async () => (await fetch(`${url}/health/ready`)).status === 200, 'the worker to become ready');
    const { topics } = await env.admin.fetchTopicMetadata({ topics: [env.repairTopic] });
    expect(topics[0].partitions).toHaveLength(2);
  });
});
