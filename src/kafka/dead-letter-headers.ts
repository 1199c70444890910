/**
 * Headers a dead letter carries besides the original ones: why it failed and where it came from.
 * Transport vocabulary, shared by the publisher (in the intake) and the replayer, which strips
 * them before it puts a letter back on the main topic.
 */
export const DeadLetterHeaders = {
  reason: 'x-dead-letter-reason',
  category: 'x-dead-letter-category',
  sourceTopic: 'x-source-topic',
  sourcePartition: 'x-source-partition',
  sourceOffset: 'x-source-offset',
  failedAt: 'x-failed-at',
  originalBytes: 'x-original-value-bytes',
  originalKeyBytes: 'x-original-key-bytes',
} as const;
