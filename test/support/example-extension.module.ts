import { Controller, DynamicModule, Get, Inject, Injectable, Module, NotFoundException, Param } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { HealthCheck, HealthCheckService, HealthIndicatorService, TerminusModule } from '@nestjs/terminus';
import { Counter } from 'prom-client';
import { AppConfig } from '../../src/config/app-config';
import { APP_CONFIG } from '../../src/config/config.module';
import { WorkerMetrics } from '../../src/metrics/worker-metrics';
import { NeighborLookup } from '../../src/read-api/neighbor-lookup';

/**
 * The worked example of docs/extending.md, as a deployment would write it: a read endpoint and a
 * health check of its own, injecting only what the worker exports for extensions.
 */
const CANARY_STUDENT = Symbol('CANARY_STUDENT');

/** Up while the canary student has a stored list: a graph emptied by mistake shows here. */
@Injectable()
export class CanaryIndicator {
  constructor(
    private readonly indicators: HealthIndicatorService,
    private readonly lookup: NeighborLookup,
    @Inject(CANARY_STUDENT) private readonly canaryStudentId: string,
  ) {}

  async check(key: string) {
    const indicator = this.indicators.check(key);
    const { neighbors } = await this.lookup.stored(this.canaryStudentId);
    const details = { studentId: this.canaryStudentId, neighbors: neighbors.length };
    return neighbors.length > 0 ? indicator.up(details) : indicator.down(details);
  }
}

@Controller('extension')
export class ExampleExtensionController {
  private readonly requests: Counter;

  constructor(
    private readonly lookup: NeighborLookup,
    private readonly health: HealthCheckService,
    private readonly canary: CanaryIndicator,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly configService: ConfigService,
    metrics: WorkerMetrics,
  ) {
    this.requests = new Counter({ name: 'extension_top_requests_total', help: 'Requests to /extension/top/:id', registers: [metrics.registry] });
  }

  /** The most similar student of one student, or null when its list is empty. */
  @Get('top/:id')
  async top(@Param('id') studentId: string) {
    this.requests.inc();
    const found = await this.lookup.stored(studentId);
    if (!found.hasEmbedding && found.neighbors.length === 0) throw new NotFoundException(`no student ${studentId}`);
    return {
      studentId,
      top: found.neighbors[0] ?? null,
      maxNeighbors: this.config.graph.maxNeighbors,
      threshold: this.configService.get<number>('graph.threshold'),
    };
  }

  @Get('health')
  @HealthCheck()
  check() {
    return this.health.check([() => this.canary.check('canary')]);
  }
}

@Module({})
export class ExampleExtensionModule {
  static forRoot(options: { canaryStudentId: string }): DynamicModule {
    return {
      module: ExampleExtensionModule,
      imports: [TerminusModule],
      controllers: [ExampleExtensionController],
      providers: [CanaryIndicator, { provide: CANARY_STUDENT, useValue: options.canaryStudentId }],
    };
  }
}
