import { EmbeddingEvent } from '../dto/embedding-event';

/**
 * One event per student: the last one in the batch (partition order), so several changes to one
 * student cost one recomputation. Events with an explicit lower version than an earlier event of
 * the same student in the batch are stale replays and never replace it.
 */
export function coalesceByStudent(events: EmbeddingEvent[]): EmbeddingEvent[] {
  const latest = new Map<string, EmbeddingEvent>();
  for (const event of events) {
    const previous = latest.get(event.studentId);
    if (previous && previous.version !== null && event.version !== null && event.version < previous.version) continue;
    latest.set(event.studentId, event);
  }
  return [...latest.values()];
}
