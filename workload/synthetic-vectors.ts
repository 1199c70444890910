/** A small seeded generator of clustered unit vectors for tests (deterministic per seed). */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function gaussian(random: () => number): number {
  const u = 1 - random();
  const v = random();
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
}

export function normalize(v: number[]): number[] {
  const norm = Math.sqrt(v.reduce((s, x) => s + x * x, 0));
  return v.map((x) => x / norm);
}

/**
 * `count` unit vectors around `clusters` random centres; `noise` is the norm of the offset from the
 * centre, so two members of one cluster have a cosine similarity of about 1 / (1 + noise^2).
 */
export function clusteredVectors(random: () => number, count: number, dimension: number, clusters: number, noise = 1): number[][] {
  const centres = Array.from({ length: clusters }, () => normalize(Array.from({ length: dimension }, () => gaussian(random))));
  return Array.from({ length: count }, () => {
    const centre = centres[Math.floor(random() * clusters)];
    return normalize(centre.map((c) => c + (noise * gaussian(random)) / Math.sqrt(dimension)));
  });
}
