import { Global, Module } from '@nestjs/common';
import { MetricsController } from './metrics.controller';
import { WorkerMetrics } from './worker-metrics';

/** Global: modules with metrics of their own, a deployment's added modules too, register them in WorkerMetrics.registry. */
@Global()
@Module({ controllers: [MetricsController], providers: [WorkerMetrics], exports: [WorkerMetrics] })
export class MetricsModule {}
