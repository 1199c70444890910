import { BadRequestException, Controller, Get, Inject, NotFoundException, Param, PipeTransform } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiParam, ApiProperty, ApiTags } from '@nestjs/swagger';
import { AppConfig } from '../config/app-config';
import { APP_CONFIG } from '../config/config.module';
import { GraphReporter } from '../reporting/graph-reporter';
import { MAX_STUDENT_ID_LENGTH, studentIdSchema } from '../similarity/dto/embedding-event';
import { NeighborLookup } from './neighbor-lookup';

/** Validates a student id from a URL with the same rules as the event contract. */
class StudentIdPipe implements PipeTransform<string, string> {
  transform(value: string): string {
    const parsed = studentIdSchema.safeParse(value);
    if (!parsed.success) throw new BadRequestException(`student id ${parsed.error.issues[0].message}`);
    return parsed.data;
  }
}

class NeighborDto {
  @ApiProperty({ example: 'st-000042' }) studentId!: string;
  @ApiProperty({ description: 'cosine similarity in [-1, 1]', example: 0.73 }) similarity!: number;
}

class StudentNeighborsDto {
  @ApiProperty() studentId!: string;
  @ApiProperty({ description: 'at most MAX_NEIGHBORS, most similar first (ties by student id)', type: [NeighborDto] }) neighbors!: NeighborDto[];
}

@ApiTags('graph')
@Controller()
export class ReadApiController {
  constructor(
    private readonly lookup: NeighborLookup,
    private readonly reporter: GraphReporter,
    @Inject(APP_CONFIG) private readonly config: Pick<AppConfig, 'http'>,
  ) {}

  @Get('students/:id/neighbors')
  @ApiOperation({ summary: "A student's stored top-K most similar students" })
  @ApiParam({ name: 'id', description: `1–${MAX_STUDENT_ID_LENGTH} characters, no control characters` })
  @ApiOkResponse({ type: StudentNeighborsDto })
  async neighbors(@Param('id', new StudentIdPipe()) studentId: string): Promise<StudentNeighborsDto> {
    const found = await this.lookup.stored(studentId);
    if (!found.hasEmbedding && found.neighbors.length === 0) throw new NotFoundException(`no student ${studentId} with an embedding`);
    return { studentId, neighbors: found.neighbors };
  }

  @Get('graph/report')
  @ApiOperation({ summary: 'Coverage, similarity histogram and in-degree distribution of the whole graph (not saved; cached for REPORT_CACHE_SECONDS)' })
  report() {
    return this.reporter.recentReport(this.config.http.reportCacheSeconds * 1000);
  }
}
