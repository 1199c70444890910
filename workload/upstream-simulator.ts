import { randomUUID } from 'node:crypto';
import { Message } from 'kafkajs';
import { Queryable } from './embedding-writes';
import { clusteredVectors, gaussian, normalize } from './synthetic-vectors';

/** Where the simulator writes and announces: the student_embeddings table and the event topic. */
export interface UpstreamSink {
  db: Queryable;
  writeEmbeddings(rows: { studentId: string; vector: number[]; version?: number }[]): Promise<void>;
  publish(messages: Message[]): Promise<void>;
}

/**
 * Plays the upstream embedding service: it owns student_embeddings, changes a student's vector
 * (drift, jump to another cluster, leave, return) and then announces it on the topic. It keeps
 * its own copy of every vector, so the test's brute force never reads the service's database.
 */
export class UpstreamSimulator {
  readonly vectors = new Map<string, number[]>();
  private readonly versions = new Map<string, number>();
  private readonly sent: Message[] = [];
  private readonly centres: number[][];
  readonly counts = { drift: 0, jump: 0, leave: 0, tombstone: 0, return: 0, duplicate: 0, staleReplay: 0 };

  constructor(private readonly env: UpstreamSink, private readonly random: () => number, students: number, private readonly dimension = 384, clusters = 12) {
    this.centres = clusteredVectors(random, clusters, dimension, clusters, 0);
    for (let i = 0; i < students; i++) this.vectors.set(`s-${String(i).padStart(4, '0')}`, this.nearCentre());
    for (const id of this.vectors.keys()) this.versions.set(id, 1);
  }

  get studentIds(): string[] {
    return [...this.versions.keys()];
  }

  /** Writes every vector and announces every student once. */
  async seed(): Promise<void> {
    await this.env.writeEmbeddings([...this.vectors].map(([studentId, vector]) => ({ studentId, vector, version: 1 })));
    await this.send([...this.vectors.keys()].map((id) => this.event(id, 'upsert')));
  }

  /** `count` random changes, written then announced in chunks; duplicates and stale replays mixed in. */
  async stream(count: number, chunk = 50): Promise<void> {
    for (let done = 0; done < count; done += chunk) {
      const writes = new Map<string, number[] | null>();
      const messages: Message[] = [];
      for (let i = 0; i < Math.min(chunk, count - done); i++) messages.push(this.change(writes));
      const upserts = [...writes].filter(([, v]) => v !== null).map(([studentId, vector]) => ({ studentId, vector: vector!, version: this.versions.get(studentId)! }));
      const deletes = [...writes].filter(([, v]) => v === null).map(([id]) => id);
      await this.env.writeEmbeddings(upserts);
      if (deletes.length) await this.env.db.query('DELETE FROM student_embeddings WHERE student_id = ANY($1::text[])', [deletes]);
      await this.send(messages);
    }
  }

  private change(writes: Map<string, number[] | null>): Message {
    const roll = this.random();
    const ids = this.studentIds;
    const id = ids[Math.floor(this.random() * ids.length)];
    const present = this.vectors.has(id);
    if (roll < 0.05 && this.sent.length > 0) {
      const old = this.sent[Math.floor(this.random() * this.sent.length)];
      const oldVersion = JSON.parse(old.value?.toString() ?? '{}').version;
      if (oldVersion !== undefined && oldVersion < this.versions.get(old.key!.toString())!) this.counts.staleReplay++;
      else this.counts.duplicate++;
      return old;
    }
    this.versions.set(id, this.versions.get(id)! + 1);
    if (!present) {
      this.counts.return++;
      this.vectors.set(id, this.nearCentre());
      writes.set(id, this.vectors.get(id)!);
      return this.event(id, 'upsert');
    }
    if (roll < 0.13) {
      this.vectors.delete(id);
      writes.set(id, null);
      if (this.random() < 0.5) {
        this.counts.tombstone++;
        return { key: id, value: null };
      }
      this.counts.leave++;
      return this.event(id, 'delete');
    }
    if (roll < 0.33) {
      this.counts.jump++;
      this.vectors.set(id, this.nearCentre());
    } else {
      this.counts.drift++;
      this.vectors.set(id, normalize(this.vectors.get(id)!.map((x) => x + (0.6 * gaussian(this.random)) / Math.sqrt(this.dimension))));
    }
    writes.set(id, this.vectors.get(id)!);
    return this.event(id, 'upsert');
  }

  private event(id: string, op: 'upsert' | 'delete'): Message {
    return { key: id, value: JSON.stringify({ student_id: id, event_id: randomUUID(), version: this.versions.get(id), op }) };
  }

  private async send(messages: Message[]): Promise<void> {
    this.sent.push(...messages);
    await this.env.publish(messages);
  }

  private nearCentre(): number[] {
    const centre = this.centres[Math.floor(this.random() * this.centres.length)];
    return normalize(centre.map((c) => c + (1.1 * gaussian(this.random)) / Math.sqrt(this.dimension)));
  }
}
