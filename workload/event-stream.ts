import { Queryable, writeEmbeddings } from './embedding-writes';
import { Items, Student, StudentGenerator } from './real-students';
import { seededRandom } from './synthetic-vectors';

/** The value of a message on the embedding topic, as the upstream producer sends it. */
export interface EventMessage {
  student_id: string;
  event_id: string;
  version: number;
  op: 'upsert' | 'delete';
}

export type EventKind = 'read-book' | 'switch-interest' | 'leave' | 'return' | 'duplicate' | 'stale-replay';

/** What the upstream producer writes to student_embeddings before it publishes the event. */
export type UpstreamChange = { kind: 'upsert'; vector: Float32Array } | { kind: 'delete' } | { kind: 'none' };

export interface StudentEvent {
  kind: EventKind;
  message: EventMessage;
  change: UpstreamChange;
}

export interface Workload {
  dimension: number;
  ids: string[];
  /** Initial vectors (version 1), row i at [i * dimension, (i + 1) * dimension). */
  initial: Float32Array;
  events: StudentEvent[];
}

/** Shares of the events; the rest are changes (read a book or switch interest, per the data recipe). */
const MIX = { duplicate: 0.02, staleReplay: 0.02, leave: 0.05, return: 0.03 } as const;

export function studentId(index: number): string {
  return `st-${String(index + 1).padStart(6, '0')}`;
}

/** Students and their event stream, deterministic for a seed. */
export function buildWorkload(items: Items, students: number, events: number, seed: number): Workload {
  const random = seededRandom(seed);
  const generator = new StudentGenerator(items, random);
  const dimension = items.dimension;
  const ids = Array.from({ length: students }, (_, i) => studentId(i));
  const initial = new Float32Array(students * dimension);
  const books: (number[] | null)[] = [];
  for (let i = 0; i < students; i++) {
    const student = generator.newStudent();
    initial.set(student.vector, i * dimension);
    books.push(student.books);
  }
  return { dimension, ids, initial, events: new EventStream(generator, random, ids, books).take(events) };
}

/** The stream's bookkeeping: who is in, each student's version and the messages sent for it. */
class EventStream {
  private readonly present: number[];
  private readonly absent: number[] = [];
  private readonly positionIn: number[];
  private readonly versions: number[];
  private readonly sent: EventMessage[][];
  private readonly touched: number[] = [];

  constructor(
    private readonly generator: StudentGenerator,
    private readonly random: () => number,
    private readonly ids: string[],
    private readonly books: (number[] | null)[],
  ) {
    this.present = ids.map((_, i) => i);
    this.positionIn = ids.map((_, i) => i);
    this.versions = ids.map(() => 1);
    this.sent = ids.map(() => []);
  }

  take(count: number): StudentEvent[] {
    return Array.from({ length: count }, () => this.next());
  }

  private next(): StudentEvent {
    let r = this.random();
    if ((r -= MIX.duplicate) < 0 && this.touched.length > 0) return this.resend('duplicate', this.lastMessageOf(this.pick(this.touched)));
    if ((r -= MIX.staleReplay) < 0 && this.touched.length > 0) return this.resend('stale-replay', this.olderMessageOf(this.pick(this.touched)));
    if ((r -= MIX.leave) < 0 && this.present.length > 1) return this.leave(this.pick(this.present));
    if ((r -= MIX.return) < 0 && this.absent.length > 0) return this.comeBack(this.pick(this.absent));
    const student = this.pick(this.present);
    // The generator's moves read only the books; vectors live in Float32 rows, not in Student.
    const current: Student = { books: this.books[student]!, vector: [] };
    return this.random() < 0.9
      ? this.change(student, 'read-book', this.generator.readBook(current))
      : this.change(student, 'switch-interest', this.generator.switchInterest(current));
  }

  private change(student: number, kind: EventKind, next: Student): StudentEvent {
    this.books[student] = next.books;
    return { kind, message: this.send(student, 'upsert'), change: { kind: 'upsert', vector: Float32Array.from(next.vector) } };
  }

  private leave(student: number): StudentEvent {
    this.move(student, this.present, this.absent);
    this.books[student] = null;
    return { kind: 'leave', message: this.send(student, 'delete'), change: { kind: 'delete' } };
  }

  private comeBack(student: number): StudentEvent {
    this.move(student, this.absent, this.present);
    return this.change(student, 'return', this.generator.newStudent());
  }

  private resend(kind: EventKind, message: EventMessage): StudentEvent {
    return { kind, message, change: { kind: 'none' } };
  }

  private send(student: number, op: EventMessage['op']): EventMessage {
    const message = { student_id: this.ids[student], event_id: this.uuid(), version: ++this.versions[student], op };
    if (this.sent[student].length === 0) this.touched.push(student);
    this.sent[student].push(message);
    return message;
  }

  private lastMessageOf(student: number): EventMessage {
    const messages = this.sent[student];
    return messages[messages.length - 1];
  }

  /** An earlier message than the last when there is one; a student with one message replays it. */
  private olderMessageOf(student: number): EventMessage {
    const messages = this.sent[student];
    return messages[Math.floor(this.random() * Math.max(1, messages.length - 1))];
  }

  private move(student: number, from: number[], to: number[]): void {
    const at = this.positionIn[student];
    const last = from[from.length - 1];
    from[at] = last;
    this.positionIn[last] = at;
    from.pop();
    this.positionIn[student] = to.length;
    to.push(student);
  }

  private pick(from: number[]): number {
    return from[Math.floor(this.random() * from.length)];
  }

  /** A version-4 UUID from the seeded stream, so a rerun sends the same event ids. */
  private uuid(): string {
    const hex = Array.from({ length: 32 }, () => Math.floor(this.random() * 16).toString(16));
    hex[12] = '4';
    hex[16] = ((parseInt(hex[16], 16) & 0x3) | 0x8).toString(16);
    const h = hex.join('');
    return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
  }
}

/** The students present after the first `eventCount` events, with their vectors (views, not copies). */
export function vectorsAfter(workload: Workload, eventCount: number): { ids: string[]; vectors: Float32Array[] } {
  const { dimension, ids, initial } = workload;
  const current = new Map<string, Float32Array>(ids.map((id, i) => [id, initial.subarray(i * dimension, (i + 1) * dimension)]));
  for (const { message, change } of workload.events.slice(0, eventCount)) {
    if (change.kind === 'upsert') current.set(message.student_id, change.vector);
    else if (change.kind === 'delete') current.delete(message.student_id);
  }
  const presentIds = ids.filter((id) => current.has(id));
  return { ids: presentIds, vectors: presentIds.map((id) => current.get(id)!) };
}

export function countByKind(events: StudentEvent[]): Record<EventKind, number> {
  const counts: Record<EventKind, number> = { 'read-book': 0, 'switch-interest': 0, leave: 0, return: 0, duplicate: 0, 'stale-replay': 0 };
  for (const event of events) counts[event.kind]++;
  return counts;
}

/**
 * What the upstream producer does before it publishes events: write each student's last new
 * vector (with the event's version) and delete the rows of students whose last event is a leave.
 */
export async function applyUpstreamChanges(db: Queryable, events: Pick<StudentEvent, 'message' | 'change'>[]): Promise<void> {
  const last = new Map<string, Pick<StudentEvent, 'message' | 'change'>>();
  for (const event of events) if (event.change.kind !== 'none') last.set(event.message.student_id, event);
  const upserts = [...last.values()].filter((e) => e.change.kind === 'upsert');
  const deletes = [...last.values()].filter((e) => e.change.kind === 'delete').map((e) => e.message.student_id);
  if (upserts.length > 0) {
    await writeEmbeddings(
      db,
      upserts.map((e) => ({ studentId: e.message.student_id, vector: (e.change as { vector: Float32Array }).vector, version: e.message.version! })),
    );
  }
  if (deletes.length > 0) await db.query('DELETE FROM student_embeddings WHERE student_id = ANY($1::text[])', [deletes]);
}
