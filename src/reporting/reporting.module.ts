import { Module } from '@nestjs/common';
import { GraphReportRepository } from './graph-report.repository';
import { GraphReporter } from './graph-reporter';

@Module({ providers: [GraphReporter, GraphReportRepository], exports: [GraphReporter] })
export class ReportingModule {}
