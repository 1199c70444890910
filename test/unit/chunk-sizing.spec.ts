import { ChunkSizes, nextChunkSize } from '../../src/kafka/chunk-sizing';

describe('nextChunkSize', () => {
  it('shrinks a chunk that outlived the budget so the next one takes about half of it', () => {
    expect(nextChunkSize(400, 8000, 2000, 500)).toBe(50);
  });

  it('grows a fast chunk at most twofold', () => {
    expect(nextChunkSize(10, 10, 2000, 500)).toBe(20);
  });

  it('never exceeds the configured maximum', () => {
    expect(nextChunkSize(400, 10, 2000, 500)).toBe(500);
  });

  it('never falls below one record, however slow', () => {
    expect(nextChunkSize(1, 600000, 2000, 500)).toBe(1);
  });

  it('keeps a chunk that takes half the budget as it is', () => {
    expect(nextChunkSize(120, 1000, 2000, 500)).toBe(120);
  });
});

describe('ChunkSizes', () => {
  it('sizes each topic by its own chunks: a slow topic shrinks without shrinking a fast one', () => {
    const sizes = new ChunkSizes(2000, 500);
    expect(sizes.of('events')).toBe(50);
    sizes.observe('events', 50, 50, 10);
    sizes.observe('events', 100, 100, 10);
    sizes.observe('events.repairs', 50, 50, 4000);
    expect(sizes.of('events')).toBe(200);
    expect(sizes.of('events.repairs')).toBe(12);
  });

  it('keeps the size after a short, fast chunk (the partition had no more)', () => {
    const sizes = new ChunkSizes(2000, 500);
    sizes.observe('events', 50, 50, 10);
    sizes.observe('events', 100, 3, 5);
    expect(sizes.of('events')).toBe(100);
  });
});
