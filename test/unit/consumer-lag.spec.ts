import { lagByPartition } from '../../src/kafka/consumer-lag.monitor';

describe('lagByPartition', () => {
  it("adds partition p's repair backlog to its event backlog, and keeps each topic's share", () => {
    const lag = lagByPartition([
      {
        topic: 'events',
        ends: [
          { partition: 1, high: '40', low: '0' },
          { partition: 0, high: '10', low: '0' },
        ],
        committed: [
          { partition: 0, offset: '10' },
          { partition: 1, offset: '25' },
        ],
      },
      {
        topic: 'events.repairs',
        ends: [
          { partition: 0, high: '7', low: '0' },
          { partition: 1, high: '3', low: '0' },
        ],
        committed: [{ partition: 1, offset: '3' }],
      },
    ]);
    expect(lag).toEqual([
      { partition: 0, lag: 7, byTopic: { events: 0, 'events.repairs': 7 } },
      { partition: 1, lag: 15, byTopic: { events: 15, 'events.repairs': 0 } },
    ]);
  });

  it('counts what is still retained when the group has committed nothing, and never a negative lag', () => {
    const lag = lagByPartition([{ topic: 'events.repairs', ends: [{ partition: 0, high: '50', low: '20' }, { partition: 1, high: '5', low: '0' }], committed: [{ partition: 0, offset: '-1' }, { partition: 1, offset: '9' }] }]);
    expect(lag.map((p) => p.lag)).toEqual([30, 0]);
  });
});
