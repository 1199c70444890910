/** Student ids as dense numbers, shared by a worker's holder indexes; never shrinks (a student that left keeps its number). */
export class StudentNumbers {
  private readonly byId = new Map<string, number>();
  private readonly ids: string[] = [];

  numberOf(id: string): number {
    let n = this.byId.get(id);
    if (n === undefined) {
      n = this.ids.length;
      this.ids.push(id);
      this.byId.set(id, n);
    }
    return n;
  }

  find(id: string): number | undefined {
    return this.byId.get(id);
  }

  idOf(n: number): string {
    return this.ids[n];
  }
}

/**
 * Who holds whom among one partition's pools (member -> the owners whose pool holds it), kept in
 * its owner's memory. Owners are stored as student numbers in one typed array, a segment per
 * member, instead of an array of strings per member: at 100,000 students the index has two
 * million entries, and as JavaScript arrays and map entries they were a third of the worker's
 * heap, marked again by every full garbage collection.
 *
 * It may name an owner that no longer holds the member (a superset is harmless: the pools are
 * read from the database before they are judged), but it must never miss one.
 */
export class PartitionHolderIndex {
  /** Per member number: where its segment of `slots` starts, how many owners it holds, and how many fit. */
  private start = new Int32Array(1024);
  private count = new Int32Array(1024);
  private room = new Int32Array(1024);
  private slots = new Int32Array(4096);
  /** Slots handed out to segments: the next segment starts here. */
  private used = 0;
  private entries = 0;

  constructor(
    pools: readonly { owner: string; members: readonly string[] }[] = [],
    private readonly numbers = new StudentNumbers(),
  ) {
    // Sized once for what is read: every regrowth leaves the old array to the allocator.
    this.slots = new Int32Array(Math.max(4096, 2 * pools.reduce((entries, pool) => entries + pool.members.length, 0)));
    for (const { owner, members } of pools) for (const member of members) this.add(member, owner);
  }

  holdersOf(member: string): readonly string[] {
    const m = this.numbers.find(member);
    if (m === undefined || m >= this.count.length || this.count[m] === 0) return [];
    const first = this.start[m];
    return Array.from(this.slots.subarray(first, first + this.count[m]), (owner) => this.numbers.idOf(owner));
  }

  /** The owner's pool held `before` and now holds `after` (both empty for no pool). */
  replace(owner: string, before: readonly string[], after: readonly string[]): void {
    const kept = new Set(after);
    for (const member of before) if (!kept.has(member)) this.remove(member, owner);
    const had = new Set(before);
    for (const member of after) if (!had.has(member)) this.add(member, owner);
  }

  /** Pool entries indexed. */
  get size(): number {
    return this.entries;
  }

  private add(member: string, owner: string): void {
    const m = this.numbers.numberOf(member);
    const o = this.numbers.numberOf(owner);
    this.makeRoomForMember(m);
    const count = this.count[m];
    if (this.slots.subarray(this.start[m], this.start[m] + count).includes(o)) return;
    if (count === this.room[m]) this.moveToNewSegment(m, Math.max(4, 2 * count));
    this.slots[this.start[m] + count] = o;
    this.count[m] = count + 1;
    this.entries++;
  }

  private remove(member: string, owner: string): void {
    const m = this.numbers.find(member);
    const o = this.numbers.find(owner);
    if (m === undefined || o === undefined || m >= this.count.length) return;
    const first = this.start[m];
    const last = first + this.count[m] - 1;
    const at = this.slots.subarray(first, last + 1).indexOf(o);
    if (at < 0) return;
    this.slots[first + at] = this.slots[last];
    this.count[m]--;
    this.entries--;
  }

  private makeRoomForMember(m: number): void {
    if (m < this.count.length) return;
    const length = Math.max(2 * this.count.length, m + 1);
    const grown = (from: Int32Array) => {
      const to = new Int32Array(length);
      to.set(from);
      return to;
    };
    this.start = grown(this.start);
    this.count = grown(this.count);
    this.room = grown(this.room);
  }

  /** Gives member m a segment of `room` slots after the last one, its owners copied there (its old segment becomes a hole). */
  private moveToNewSegment(m: number, room: number): void {
    if (this.used + room > this.slots.length) this.compact(room);
    this.slots.copyWithin(this.used, this.start[m], this.start[m] + this.count[m]);
    this.start[m] = this.used;
    this.room[m] = room;
    this.used += room;
  }

  /** Closes the holes: every segment copied, in member order, into slots with twice the room they need. */
  private compact(extra: number): void {
    let needed = extra;
    for (let m = 0; m < this.room.length; m++) needed += this.room[m];
    const slots = new Int32Array(Math.max(4096, 2 * needed));
    let at = 0;
    for (let m = 0; m < this.room.length; m++) {
      if (this.room[m] === 0) continue;
      slots.set(this.slots.subarray(this.start[m], this.start[m] + this.count[m]), at);
      this.start[m] = at;
      at += this.room[m];
    }
    this.slots = slots;
    this.used = at;
  }
}

/** What an index was built or last kept at: its partition's take, the pools' rebuild count and the partition count. */
export interface HolderIndexStamp {
  epoch: number;
  poolsRevision: number;
  partitionCount: number;
}

/**
 * Whether an index kept at `kept` still names every holder for a transaction that locked the
 * owner row at `locked`. Epochs rise by one per take, so `locked.epoch === kept.epoch + 1` means
 * the only take since is the locking worker's own (it got the partition back): no other owner
 * wrote the pools meanwhile. A rebuild raises the revision; another partition count means other
 * owners in the partition.
 */
export function holderIndexHolds(kept: HolderIndexStamp, locked: HolderIndexStamp): boolean {
  return (
    kept.poolsRevision === locked.poolsRevision &&
    kept.partitionCount === locked.partitionCount &&
    (locked.epoch === kept.epoch || locked.epoch === kept.epoch + 1)
  );
}
