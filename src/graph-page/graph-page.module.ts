import { Module } from '@nestjs/common';
import { GraphPageController } from './graph-page.controller';

@Module({ controllers: [GraphPageController] })
export class GraphPageModule {}
