import { Global, Module } from '@nestjs/common';
import { MetricsController } from './metrics.controller';
import { WorkerMetrics } from './worker-metrics';

@Global()
@Module({ controllers: [MetricsController], providers: [WorkerMetrics], exports: [WorkerMetrics] })
export class MetricsModule {}
