import { partitionOfKey } from '../../src/kafka/partition-of-key';
import { splitByOwner } from '../../src/similarity/misrouted-events';

const event = (studentId: string) => ({ studentId, eventId: `e-${studentId}`, version: 1, op: 'upsert' as const });

describe("splitByOwner: an event is applied only on its student's partition", () => {
  it("keeps the partition's own students and sends every other one to the partition the producer's partitioner gives its id", () => {
    const events = Array.from({ length: 40 }, (_, i) => event(`s-${i}`));
    const { own, elsewhere } = splitByOwner(events, 1, 4);
    expect(own.length + elsewhere.length).toBe(40);
    expect(own.length).toBeGreaterThan(0);
    expect(own.every((e) => partitionOfKey(e.studentId, 4) === 1)).toBe(true);
    expect(elsewhere.every(({ event: e, partition }) => partition !== 1 && partition === partitionOfKey(e.studentId, 4))).toBe(true);
  });

  it('keeps everything on a topic of one partition', () => {
    expect(splitByOwner([event('a'), event('b')], 0, 1).elsewhere).toEqual([]);
  });
});
