/**
 * Real sentence embeddings for the benchmark: a reader of numpy `.npy` files, a loader of the items in
 * ../shared/data (see its README.md) and a seeded generator of students following its make-students.py.
 */
import * as fs from 'fs';
import * as path from 'path';

export const ITEMS_FILE = 'items-minilm-384.f16.npy';
export const TOPICS_FILE = 'items-topic.u16.npy';

export interface NpyArray {
  descr: string;
  shape: number[];
  data: Float32Array | Uint16Array;
}

export interface Items {
  /** Row-major, `count` rows of `dimension` values, unit-normalised. */
  vectors: Float32Array;
  dimension: number;
  count: number;
  topics: Uint16Array;
}

export interface Student {
  books: number[];
  vector: number[];
}

/** The numbers of make-students.py. */
export const STUDENT_RECIPE = {
  mainTopicBooks: { min: 3, max: 12 },
  secondTopicChance: 0.25,
  secondTopicBooks: { min: 1, max: 2 },
  /** Of the events that change a student, the rest are interest switches. */
  readBookShare: 0.9,
  /** Of the books read later, the rest come from any topic. */
  familiarTopicChance: 0.8,
} as const;

const NPY_MAGIC = Buffer.from([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]);

export function float16ToFloat32(bits: number): number {
  const sign = bits & 0x8000 ? -1 : 1;
  const exponent = (bits >>> 10) & 0x1f;
  const fraction = bits & 0x3ff;
  if (exponent === 0) return sign * fraction * 2 ** -24;
  if (exponent === 0x1f) return fraction === 0 ? sign * Infinity : NaN;
  return sign * (1 + fraction / 1024) * 2 ** (exponent - 15);
}

let float16Table: Float32Array | null = null;

/** All 65,536 conversions at once: millions of values are converted by a lookup, not by arithmetic. */
function float16Lookup(): Float32Array {
  if (!float16Table) {
    float16Table = new Float32Array(0x10000);
    for (let bits = 0; bits < 0x10000; bits++) float16Table[bits] = float16ToFloat32(bits);
  }
  return float16Table;
}

interface NpyHeader {
  descr: string;
  fortranOrder: boolean;
  shape: number[];
  dataOffset: number;
}

function parseNpyHeader(buffer: Buffer, file: string): NpyHeader {
  if (buffer.length < 10 || !buffer.subarray(0, 6).equals(NPY_MAGIC)) throw new Error(`${file}: not a .npy file (bad magic)`);
  const major = buffer[6];
  if (major !== 1 && major !== 2) throw new Error(`${file}: unsupported .npy version ${major}.${buffer[7]}`);
  const lengthBytes = major === 1 ? 2 : 4;
  const headerStart = 8 + lengthBytes;
  if (buffer.length < headerStart) throw new Error(`${file}: truncated .npy preamble`);
  const headerLength = major === 1 ? buffer.readUInt16LE(8) : buffer.readUInt32LE(8);
  const dataOffset = headerStart + headerLength;
  if (buffer.length < dataOffset) throw new Error(`${file}: truncated .npy header`);
  const header = buffer.toString('latin1', headerStart, dataOffset);
  return { ...parseHeaderDict(header, file), dataOffset };
}

function parseHeaderDict(header: string, file: string): Omit<NpyHeader, 'dataOffset'> {
  const descr = /'descr'\s*:\s*'([^']*)'/.exec(header);
  const fortranOrder = /'fortran_order'\s*:\s*(True|False)/.exec(header);
  const shape = /'shape'\s*:\s*\(([^)]*)\)/.exec(header);
  if (!descr || !fortranOrder || !shape) throw new Error(`${file}: unreadable .npy header ${JSON.stringify(header.trim())}`);
  const dimensions = shape[1]
    .split(',')
    .map((part) => part.trim())
    .filter((part) => part !== '')
    .map(Number);
  if (dimensions.some((size) => !Number.isSafeInteger(size) || size < 0)) throw new Error(`${file}: bad .npy shape (${shape[1]})`);
  return { descr: descr[1], fortranOrder: fortranOrder[1] === 'True', shape: dimensions };
}

const ITEM_SIZES: Record<string, number> = { '<f2': 2, '<f4': 4, '<u2': 2 };

function decodeData(bytes: Buffer, descr: string, count: number): Float32Array | Uint16Array {
  if (descr === '<f2') {
    const table = float16Lookup();
    const values = new Float32Array(count);
    for (let i = 0; i < count; i++) values[i] = table[bytes[2 * i] | (bytes[2 * i + 1] << 8)];
    return values;
  }
  if (descr === '<u2') {
    const values = new Uint16Array(count);
    for (let i = 0; i < count; i++) values[i] = bytes[2 * i] | (bytes[2 * i + 1] << 8);
    return values;
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const values = new Float32Array(count);
  for (let i = 0; i < count; i++) values[i] = view.getFloat32(4 * i, true);
  return values;
}

/** Reads a C-ordered `.npy` of little-endian float16, float32 or uint16; float16 comes back as float32. */
export function readNpy(file: string): NpyArray {
  const buffer = fs.readFileSync(file);
  const { descr, fortranOrder, shape, dataOffset } = parseNpyHeader(buffer, file);
  const itemSize = ITEM_SIZES[descr];
  if (itemSize === undefined) throw new Error(`${file}: unsupported .npy dtype '${descr}' (supported: ${Object.keys(ITEM_SIZES).join(', ')})`);
  if (fortranOrder) throw new Error(`${file}: fortran_order True is not supported (expected row-major data)`);
  const count = shape.reduce((product, size) => product * size, 1);
  const byteLength = count * itemSize;
  if (buffer.length - dataOffset < byteLength) throw new Error(`${file}: ${buffer.length - dataOffset} data bytes, shape (${shape.join(', ')}) of '${descr}' needs ${byteLength}`);
  return { descr, shape, data: decodeData(buffer.subarray(dataOffset, dataOffset + byteLength), descr, count) };
}

export function loadItems(dir: string): Items {
  const items = readNpy(path.join(dir, ITEMS_FILE));
  const topics = readNpy(path.join(dir, TOPICS_FILE));
  if (items.shape.length !== 2 || !(items.data instanceof Float32Array)) throw new Error(`${ITEMS_FILE}: expected a 2-d float array, got '${items.descr}' (${items.shape.join(', ')})`);
  if (topics.shape.length !== 1 || !(topics.data instanceof Uint16Array)) throw new Error(`${TOPICS_FILE}: expected a 1-d uint16 array, got '${topics.descr}' (${topics.shape.join(', ')})`);
  const [count, dimension] = items.shape;
  if (topics.shape[0] !== count) throw new Error(`${TOPICS_FILE}: ${topics.shape[0]} topics for ${count} items`);
  return { vectors: items.data, dimension, count, topics: topics.data };
}

/** The items whose topic is among the `count` largest (ties by topic number), in their order. */
export function itemsOfLargestTopics(items: Items, count: number): Items {
  const sizes = new Map<number, number>();
  for (const topic of items.topics) sizes.set(topic, (sizes.get(topic) ?? 0) + 1);
  const kept = new Set([...sizes].sort(([ta, a], [tb, b]) => b - a || ta - tb).slice(0, count).map(([topic]) => topic));
  const rows = [...items.topics.keys()].filter((row) => kept.has(items.topics[row]));
  const vectors = new Float32Array(rows.length * items.dimension);
  rows.forEach((row, i) => vectors.set(items.vectors.subarray(row * items.dimension, (row + 1) * items.dimension), i * items.dimension));
  return { vectors, dimension: items.dimension, count: rows.length, topics: Uint16Array.from(rows, (row) => items.topics[row]) };
}

/** ../shared/data next to the repository, or null when the data is not there. */
export function defaultDataDir(): string | null {
  const dir = path.resolve(__dirname, '..', '..', 'shared', 'data');
  return fs.existsSync(path.join(dir, ITEMS_FILE)) ? dir : null;
}

/** Students as make-students.py makes them, driven by a seeded `random` in [0, 1) (e.g. seededRandom). */
export class StudentGenerator {
  private readonly membersByTopic: number[][];

  constructor(
    private readonly items: Items,
    private readonly random: () => number,
  ) {
    if (items.count === 0) throw new Error('StudentGenerator needs at least one item');
    this.membersByTopic = groupByTopic(items.topics);
  }

  newStudent(): Student {
    const books = this.pickUnread(this.sizeWeightedTopic(), this.randomInt(STUDENT_RECIPE.mainTopicBooks), new Set());
    if (this.random() < STUDENT_RECIPE.secondTopicChance) {
      books.push(...this.pickUnread(this.sizeWeightedTopic(), this.randomInt(STUDENT_RECIPE.secondTopicBooks), new Set(books)));
    }
    return this.studentOf(books);
  }

  /** One more book: usually from a topic the student already reads, so its vector drifts a little. */
  readBook(student: Student): Student {
    const read = new Set(student.books);
    const topic = this.random() < STUDENT_RECIPE.familiarTopicChance ? this.topicOfReadBook(student.books) : this.sizeWeightedTopic();
    const [book] = this.pickUnread(topic, 1, read);
    return this.studentOf([...student.books, book ?? this.anyUnreadBook(read)]);
  }

  /** A fresh set of books: the student jumps elsewhere in the space. */
  switchInterest(_student: Student): Student {
    return this.newStudent();
  }

  vectorOf(books: number[]): number[] {
    if (books.length === 0) throw new Error('vectorOf needs at least one book');
    const { vectors, dimension } = this.items;
    const sum = new Float64Array(dimension);
    for (const book of books) {
      const row = book * dimension;
      for (let d = 0; d < dimension; d++) sum[d] += vectors[row + d];
    }
    const norm = Math.sqrt(sum.reduce((total, x) => total + x * x, 0));
    if (norm === 0) throw new Error(`books ${books.join(', ')} average to the zero vector`);
    return Array.from(sum, (x) => x / norm);
  }

  private studentOf(books: number[]): Student {
    return { books, vector: this.vectorOf(books) };
  }

  /** A topic with probability proportional to its size: the topic of a uniformly chosen item. */
  private sizeWeightedTopic(): number {
    return this.items.topics[this.randomIndex(this.items.count)];
  }

  /** Picking a read book (not a distinct topic) favours the topics the student reads most. */
  private topicOfReadBook(books: number[]): number {
    return this.items.topics[books[this.randomIndex(books.length)]];
  }

  /** Up to `wanted` distinct books of `topic` not in `read` (fewer when the topic runs out, as in the recipe). */
  private pickUnread(topic: number, wanted: number, read: Set<number>): number[] {
    const candidates = this.membersByTopic[topic].filter((book) => !read.has(book));
    const count = Math.min(wanted, candidates.length);
    for (let i = 0; i < count; i++) {
      const j = i + this.randomIndex(candidates.length - i);
      [candidates[i], candidates[j]] = [candidates[j], candidates[i]];
    }
    return candidates.slice(0, count);
  }

  /** Falls back to a book of any topic; a student who has read every item re-reads one. */
  private anyUnreadBook(read: Set<number>): number {
    if (read.size >= this.items.count) return this.randomIndex(this.items.count);
    for (;;) {
      const book = this.randomIndex(this.items.count);
      if (!read.has(book)) return book;
    }
  }

  private randomInt(range: { min: number; max: number }): number {
    return range.min + this.randomIndex(range.max - range.min + 1);
  }

  private randomIndex(length: number): number {
    return Math.min(length - 1, Math.floor(this.random() * length));
  }
}

function groupByTopic(topics: Uint16Array): number[][] {
  const members: number[][] = [];
  topics.forEach((topic, item) => (members[topic] ??= []).push(item));
  for (let topic = 0; topic < members.length; topic++) members[topic] ??= [];
  return members;
}
