import { CappedResults } from './capped-workers';
import { MachineInfo } from './cpu-by-process';
import { ForwardFloorResult } from './forward-floor';
import { GraphQuality } from './graph-quality';
import { BaselineResult } from './seed-baselines';
import { LatencyResult, ThroughputResult } from './service-phases';
import { W1Options } from './w1-options';
import { ServiceSource } from './worker-process';
import { EventKind } from '../workload/event-stream';

export interface TargetCheck {
  name: string;
  target: string;
  measured: string;
  met: boolean;
}

export interface ServiceRun {
  label: string;
  source: ServiceSource;
  /** The worker's effective settings (defaults plus whatever the caller's environment set). */
  settings: Record<string, string | number | boolean>;
  workers: number;
  /** The initial graph built by every student's first event through the worker, when the run did so. */
  firstComputations: ThroughputResult | null;
  throughput: ThroughputResult;
  /** VACUUM of student_embeddings right after the sustained phase. */
  vacuumAfterSustainedSeconds: number;
  latency: LatencyResult;
  /** Event to settled (its own list and every list it changes committed) at shares of the run's sustained rate. */
  settle: SettleResult[];
  peakRssBytes: number;
  /** VmHWM right after the sustained phase (batches of up to BATCH_MAX_EVENTS). */
  peakRssAfterSustainedBytes: number;
  metrics: { sustained: Record<string, number>; total: Record<string, number> };
  quality: GraphQuality;
}

export interface SettleResult extends LatencyResult {
  shareOfCapacity: number;
}

export interface BaselineRun extends BaselineResult {
  quality: GraphQuality;
}

export interface ForwardFloorRun extends ForwardFloorResult {
  quality: GraphQuality;
}

/** What the floor needs per event with the Kafka broker's share, and the events/s that leaves on the machine's cores. */
export interface FloorCeiling {
  ownMsPerEvent: number;
  kafkaMsPerEvent: number;
  msPerEvent: number;
  eventsPerSecond: number;
}

export interface W1Results {
  workload: 'W1';
  startedAt: string;
  finishedAt: string;
  machine: MachineInfo;
  data: { description: string; synthetic: boolean };
  options: W1Options;
  dimension: number;
  k: number;
  threshold: number;
  eventMix: { stream: Record<EventKind, number>; latencyPhase: Record<EventKind, number> };
  service: ServiceRun;
  serviceTwoWorkers: ServiceRun | null;
  /** Baseline (b): the seed's search, forward only, one event at a time. */
  baselines: { b: BaselineRun };
  forwardFloor: ForwardFloorRun;
  floorCeiling: FloorCeiling | null;
  /** Workers in CPU quotas (1, 2, 3) and the partition skew; null with --no-capped-run. */
  capped: CappedResults | null;
  ratios: { serviceOverB: number };
  targets: TargetCheck[];
  notes: string[];
}
