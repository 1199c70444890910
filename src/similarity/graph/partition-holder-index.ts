/**
 * Who holds whom among one partition's pools (member -> the owners whose pool holds it), kept in
 * its owner's memory. An owner array per member, not a Set: a pool holds K + reserve members,
 * and at 100,000 students a Set per member costs several times the memory of a short array.
 *
 * It may name an owner that no longer holds the member (a superset is harmless: the pools are
 * read from the database before they are judged), but it must never miss one.
 */
export class PartitionHolderIndex {
  private readonly byMember = new Map<string, string[]>();

  constructor(pools: Iterable<{ owner: string; members: readonly string[] }> = []) {
    for (const { owner, members } of pools) for (const member of members) this.add(member, owner);
    // Arrays grown by push keep up to twice their length in spare slots: trimmed, the index of
    // 100,000 students takes about 24 MB of heap instead of 45.
    for (const [member, owners] of this.byMember) this.byMember.set(member, owners.slice());
  }

  holdersOf(member: string): readonly string[] {
    return this.byMember.get(member) ?? [];
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
    let entries = 0;
    for (const owners of this.byMember.values()) entries += owners.length;
    return entries;
  }

  private add(member: string, owner: string): void {
    const owners = this.byMember.get(member);
    if (!owners) this.byMember.set(member, [owner]);
    else if (!owners.includes(owner)) owners.push(owner);
  }

  private remove(member: string, owner: string): void {
    const owners = this.byMember.get(member);
    const at = owners?.indexOf(owner) ?? -1;
    if (at < 0) return;
    owners!.splice(at, 1);
    if (owners!.length === 0) this.byMember.delete(member);
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
