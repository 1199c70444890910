import { clusteredVectors, seededRandom } from './synthetic-vectors';
import { Items, itemsOfLargestTopics, loadItems } from './real-students';

export interface ItemSource {
  items: Items;
  /** Where the items came from, for the output. */
  description: string;
  synthetic: boolean;
}

const SYNTHETIC_TOPICS = 512;
const SYNTHETIC_ITEMS_PER_TOPIC = 40;
const SYNTHETIC_DIMENSION = 384;

/**
 * The real items of `dir`, or (dir null) synthetic clustered items standing in for them; with
 * `topics`, only the items of the largest `topics` topics (students drawn from them are dense).
 */
export function loadItemSource(dir: string | null, seed: number, topics: number | null = null): ItemSource {
  const source: ItemSource = dir
    ? { items: loadItems(dir), description: `real sentence embeddings from ${dir}`, synthetic: false }
    : { items: syntheticItems(seed), description: `SYNTHETIC clustered items (${SYNTHETIC_TOPICS} topics x ${SYNTHETIC_ITEMS_PER_TOPIC}): ../shared/data not found and no --vectors given`, synthetic: true };
  if (topics === null) return { ...source, description: `${source.description}: ${source.items.count} items x ${source.items.dimension}` };
  const items = itemsOfLargestTopics(source.items, topics);
  return { ...source, items, description: `${source.description}: DENSE, the ${items.count} items of the ${topics} largest topics (x ${items.dimension})` };
}

/** One Gaussian cluster per topic, so StudentGenerator can follow the same recipe as on real items. */
function syntheticItems(seed: number): Items {
  const random = seededRandom(seed ^ 0x5eed);
  const count = SYNTHETIC_TOPICS * SYNTHETIC_ITEMS_PER_TOPIC;
  const vectors = new Float32Array(count * SYNTHETIC_DIMENSION);
  const topics = new Uint16Array(count);
  for (let topic = 0; topic < SYNTHETIC_TOPICS; topic++) {
    clusteredVectors(random, SYNTHETIC_ITEMS_PER_TOPIC, SYNTHETIC_DIMENSION, 1, 1.2).forEach((vector, i) => {
      const item = topic * SYNTHETIC_ITEMS_PER_TOPIC + i;
      vectors.set(vector, item * SYNTHETIC_DIMENSION);
      topics[item] = topic;
    });
  }
  return { vectors, dimension: SYNTHETIC_DIMENSION, count, topics };
}
