/**
 * Logical @EventPattern names. The Kafka topic behind each comes from config at runtime
 * (see BatchingKafkaServer routes), so decorators never read config at import time.
 */
export const STUDENT_EMBEDDING_EVENTS = 'student-embedding-events';
/** The graph's internal repair topic (`<event topic>.repairs`, co-partitioned with the event topic). */
export const GRAPH_REPAIRS = 'graph-repairs';
