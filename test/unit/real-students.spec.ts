import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { defaultDataDir, float16ToFloat32, Items, itemsOfLargestTopics, loadItems, readNpy, Student, StudentGenerator } from '../../workload/real-students';
import { gaussian, normalize, seededRandom } from '../../workload/synthetic-vectors';

function npyBytes(descr: string, shape: number[], data: Buffer, fortranOrder = false): Buffer {
  const shapeText = shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(', ')})`;
  let header = `{'descr': '${descr}', 'fortran_order': ${fortranOrder ? 'True' : 'False'}, 'shape': ${shapeText}, }`;
  const unpadded = 10 + header.length + 1;
  header = header.padEnd(header.length + ((64 - (unpadded % 64)) % 64)) + '\n';
  const preamble = Buffer.alloc(10);
  Buffer.from([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0]).copy(preamble);
  preamble.writeUInt16LE(header.length, 8);
  return Buffer.concat([preamble, Buffer.from(header, 'latin1'), data]);
}

function uint16Bytes(values: number[]): Buffer {
  const bytes = Buffer.alloc(2 * values.length);
  values.forEach((value, i) => bytes.writeUInt16LE(value, 2 * i));
  return bytes;
}

function float32Bytes(values: number[]): Buffer {
  const bytes = Buffer.alloc(4 * values.length);
  values.forEach((value, i) => bytes.writeFloatLE(value, 4 * i));
  return bytes;
}

function cosine(a: number[], b: number[]): number {
  return a.reduce((sum, x, i) => sum + x * b[i], 0);
}

function norm(v: ArrayLike<number>): number {
  return Math.sqrt(Array.from(v).reduce((sum, x) => sum + x * x, 0));
}

/** `topics` clusters of `perTopic` unit vectors each, labelled with their cluster. */
function tinyItems(topics = 6, perTopic = 8, dimension = 8): Items {
  const random = seededRandom(11);
  const rows: number[][] = [];
  const labels: number[] = [];
  for (let topic = 0; topic < topics; topic++) {
    const centre = normalize(Array.from({ length: dimension }, () => gaussian(random)));
    for (let i = 0; i < perTopic; i++) {
      rows.push(normalize(centre.map((c) => c + 0.3 * gaussian(random))));
      labels.push(topic);
    }
  }
  return { vectors: Float32Array.from(rows.flat()), dimension, count: rows.length, topics: Uint16Array.from(labels) };
}

function mainTopic(items: Items, student: Student): number {
  const counts = new Map<number, number>();
  for (const book of student.books) counts.set(items.topics[book], (counts.get(items.topics[book]) ?? 0) + 1);
  return [...counts].sort((a, b) => b[1] - a[1])[0][0];
}

describe('float16ToFloat32', () => {
  it.each([
    [0x3c00, 1],
    [0xc000, -2],
    [0x7bff, 65504],
    [0x0001, 2 ** -24],
    [0x03ff, 1023 * 2 ** -24],
    [0x0400, 2 ** -14],
    [0x3555, 0.333251953125],
    [0x7c00, Infinity],
    [0xfc00, -Infinity],
  ])('converts bit pattern %d to %p', (bits, expected) => {
    expect(float16ToFloat32(bits)).toBe(expected);
  });

  it('keeps the sign of zero and maps NaN patterns to NaN', () => {
    expect(Object.is(float16ToFloat32(0x0000), 0)).toBe(true);
    expect(Object.is(float16ToFloat32(0x8000), -0)).toBe(true);
    expect(float16ToFloat32(0x7e00)).toBeNaN();
    expect(float16ToFloat32(0xfc01)).toBeNaN();
  });
});

describe('readNpy', () => {
  let dir: string;
  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'real-students-'));
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  function write(name: string, bytes: Buffer): string {
    const file = path.join(dir, name);
    fs.writeFileSync(file, bytes);
    return file;
  }

  it('reads float16 as float32, row-major with its shape', () => {
    const file = write('f2.npy', npyBytes('<f2', [2, 3], uint16Bytes([0x3c00, 0xc000, 0x0000, 0x7bff, 0x0001, 0x3800])));
    const array = readNpy(file);
    expect(array.descr).toBe('<f2');
    expect(array.shape).toEqual([2, 3]);
    expect(array.data).toBeInstanceOf(Float32Array);
    expect(Array.from(array.data)).toEqual([1, -2, 0, 65504, 2 ** -24, 0.5]);
  });

  it('reads float32 and uint16', () => {
    const floats = readNpy(write('f4.npy', npyBytes('<f4', [3], float32Bytes([0.25, -1.5, 3]))));
    expect(floats.data).toBeInstanceOf(Float32Array);
    expect(Array.from(floats.data)).toEqual([0.25, -1.5, 3]);
    const labels = readNpy(write('u2.npy', npyBytes('<u2', [4], uint16Bytes([0, 7, 511, 65535]))));
    expect(labels.data).toBeInstanceOf(Uint16Array);
    expect(labels.shape).toEqual([4]);
    expect(Array.from(labels.data)).toEqual([0, 7, 511, 65535]);
  });

  it('rejects unsupported dtypes, Fortran order, truncated data and other files', () => {
    expect(() => readNpy(write('f8.npy', npyBytes('<f8', [1], Buffer.alloc(8))))).toThrow(/unsupported .npy dtype '<f8'/);
    expect(() => readNpy(write('big.npy', npyBytes('>f4', [1], Buffer.alloc(4))))).toThrow(/unsupported .npy dtype '>f4'/);
    expect(() => readNpy(write('fortran.npy', npyBytes('<f4', [2, 2], Buffer.alloc(16), true)))).toThrow(/fortran_order/);
    expect(() => readNpy(write('short.npy', npyBytes('<u2', [4], Buffer.alloc(6))))).toThrow(/needs 8/);
    expect(() => readNpy(write('text.npy', Buffer.from('not numpy at all')))).toThrow(/bad magic/);
  });

  it('loads items and topics from one directory', () => {
    fs.writeFileSync(path.join(dir, 'items-minilm-384.f16.npy'), npyBytes('<f2', [2, 2], uint16Bytes([0x3c00, 0, 0, 0xbc00])));
    fs.writeFileSync(path.join(dir, 'items-topic.u16.npy'), npyBytes('<u2', [2], uint16Bytes([3, 1])));
    const items = loadItems(dir);
    expect(items).toMatchObject({ count: 2, dimension: 2 });
    expect(Array.from(items.vectors)).toEqual([1, 0, 0, -1]);
    expect(Array.from(items.topics)).toEqual([3, 1]);
  });
});

describe('StudentGenerator', () => {
  const items = tinyItems();

  it('is deterministic for one seed', () => {
    const run = (seed: number) => {
      const generator = new StudentGenerator(items, seededRandom(seed));
      const student = generator.newStudent();
      return [student, generator.readBook(student), generator.switchInterest(student), generator.newStudent()];
    };
    expect(run(5)).toEqual(run(5));
    expect(run(5)).not.toEqual(run(6));
  });

  it('makes students of 3 to 14 distinct books, mostly from one topic, with unit vectors', () => {
    const generator = new StudentGenerator(items, seededRandom(1));
    for (let i = 0; i < 200; i++) {
      const student = generator.newStudent();
      expect(student.books.length).toBeGreaterThanOrEqual(3);
      expect(student.books.length).toBeLessThanOrEqual(14);
      expect(new Set(student.books).size).toBe(student.books.length);
      const main = mainTopic(items, student);
      expect(student.books.filter((book) => items.topics[book] === main).length).toBeGreaterThanOrEqual(3);
      expect(norm(student.vector)).toBeCloseTo(1, 9);
      expect(student.vector).toEqual(generator.vectorOf(student.books));
    }
  });

  it('drifts a little on readBook and jumps on switchInterest', () => {
    const generator = new StudentGenerator(items, seededRandom(2));
    let topicChanges = 0;
    const trials = 100;
    for (let i = 0; i < trials; i++) {
      const student = generator.newStudent();
      const reader = generator.readBook(student);
      expect(reader.books).toEqual([...student.books, reader.books[reader.books.length - 1]]);
      expect(student.books).not.toContain(reader.books[reader.books.length - 1]);
      expect(cosine(student.vector, reader.vector)).toBeGreaterThan(0.5);
      expect(norm(reader.vector)).toBeCloseTo(1, 9);
      const switched = generator.switchInterest(student);
      expect(norm(switched.vector)).toBeCloseTo(1, 9);
      if (mainTopic(items, switched) !== mainTopic(items, student)) topicChanges++;
    }
    expect(topicChanges / trials).toBeGreaterThan(0.7);
  });

  it('keeps reading when a student has read every book of its topics', () => {
    const generator = new StudentGenerator(tinyItems(2, 3), seededRandom(3));
    let student = generator.newStudent();
    for (let i = 0; i < 10; i++) student = generator.readBook(student);
    expect(student.books.length).toBeGreaterThanOrEqual(13);
    expect(norm(student.vector)).toBeCloseTo(1, 9);
  });
});

describe('itemsOfLargestTopics', () => {
  // Topic sizes: 7 -> 3 items, 2 -> 2, 5 -> 2 (ties with 2, the larger number), 9 -> 1.
  const topics = [7, 2, 5, 7, 9, 2, 7, 5];
  const items: Items = { vectors: Float32Array.from(topics.flatMap((_, row) => [row, -row])), dimension: 2, count: topics.length, topics: Uint16Array.from(topics) };

  it('keeps the items of the largest topics, in their order, with their own vectors', () => {
    const kept = itemsOfLargestTopics(items, 2);
    expect(Array.from(kept.topics)).toEqual([7, 2, 7, 2, 7]);
    expect(kept.count).toBe(5);
    expect(Array.from(kept.vectors)).toEqual([0, -0, 1, -1, 3, -3, 5, -5, 6, -6]);
  });

  it('breaks ties between equal topics by the smaller topic number, and keeps everything when asked for more topics than there are', () => {
    expect(Array.from(itemsOfLargestTopics(items, 3).topics)).toEqual([7, 2, 5, 7, 2, 7, 5]);
    expect(itemsOfLargestTopics(items, 10).count).toBe(items.count);
  });
});

describe('the real items', () => {
  // The project is checked out with ../shared beside it (CI too), so the data must be found.
  it('are 63,666 unit vectors of 384 dimensions in ../shared/data', () => {
    const dir = defaultDataDir();
    expect(dir).toBe(path.resolve(__dirname, '..', '..', '..', 'shared', 'data'));
    const items = loadItems(dir!);
    expect(items.count).toBe(63666);
    expect(items.dimension).toBe(384);
    expect(items.topics.length).toBe(63666);
    for (const row of [0, 1, 31833, 63665]) {
      expect(norm(items.vectors.subarray(row * 384, (row + 1) * 384))).toBeCloseTo(1, 2);
    }
  }, 30000);
});
