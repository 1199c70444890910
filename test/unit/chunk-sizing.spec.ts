import { nextChunkSize } from '../../src/kafka/chunk-sizing';

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
