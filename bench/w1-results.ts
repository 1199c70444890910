import { BatchProfile } from './batch-profile';
import { TableFootprint } from './bench-database';
import { ForwardFloorResult } from './forward-floor';
import { GraphQuality } from './graph-quality';
import { MachineInfo } from './machine-info';
import { CeilingResult } from './query-ceiling';
import { BaselineKind, BaselineResult } from './seed-baselines';
import { LatencyResult, ThroughputResult } from './service-phases';
import { IndexBuild } from './vector-indexes';
import { W1Options } from './w1-options';
import { ServiceSource } from './worker-process';
import { EventKind } from './workload';

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
  /** The initial graph by the CLI (0 when first events built it). */
  rebuildSeconds: number;
  workers: number;
  /** The initial graph built by every student's first event through the worker, when the run did so. */
  firstComputations: ThroughputResult | null;
  throughput: ThroughputResult;
  /** VACUUM of student_embeddings right after the sustained phase (absent in results of a bench that did not time it). */
  vacuumAfterSustainedSeconds?: number;
  latency: LatencyResult;
  peakRssBytes: number;
  /** VmHWM right after the sustained phase (batches of up to BATCH_MAX_EVENTS). */
  peakRssAfterSustainedBytes: number;
  metrics: { sustained: Record<string, number>; total: Record<string, number> };
  profile: BatchProfile;
  footprintAfterStream: TableFootprint[];
  quality: GraphQuality;
}

export interface BaselineRun extends BaselineResult {
  quality: GraphQuality;
  /** Events of the stream the graph quality was measured after (a prefix for (a) at large sizes). */
  qualityAfterEvents: number;
}

export interface ForwardFloorRun extends ForwardFloorResult {
  quality: GraphQuality;
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
  indexBuilds: IndexBuild[];
  ceiling: CeilingResult[] | null;
  service: ServiceRun;
  /** The extra run with the other CANDIDATE_SEARCH (null when skipped). */
  serviceOtherMode: ServiceRun | null;
  serviceTwoWorkers: ServiceRun | null;
  baselines: Record<BaselineKind, BaselineRun>;
  /** Absent in results of a bench that did not measure the floor. */
  forwardFloor?: ForwardFloorRun;
  ratios: { serviceOverB: number; serviceOverA: number };
  targets: TargetCheck[];
  notes: string[];
}
