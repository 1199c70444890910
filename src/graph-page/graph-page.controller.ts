import { Controller, Get, Header, NotFoundException, Param, StreamableFile } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import { createReadStream } from 'node:fs';
import { dirname, join } from 'node:path';

/**
 * The files the page may load: its own assets and the two charting libraries' browser builds.
 * A Map, not an object, so that a name from the URL such as `__proto__` or `constructor` finds
 * nothing instead of a member of Object.prototype.
 */
const ASSETS = new Map<string, { path: string; type: string }>([
  ['graph.js', { path: join(__dirname, 'assets', 'graph.js'), type: 'text/javascript; charset=utf-8' }],
  ['graph.css', { path: join(__dirname, 'assets', 'graph.css'), type: 'text/css; charset=utf-8' }],
  ['cytoscape.min.js', { path: require.resolve('cytoscape/dist/cytoscape.min.js'), type: 'text/javascript; charset=utf-8' }],
  // chart.js exports no path to its browser build; it sits beside the CommonJS entry.
  ['chart.umd.min.js', { path: join(dirname(require.resolve('chart.js')), 'chart.umd.min.js'), type: 'text/javascript; charset=utf-8' }],
]);

/** A small page for people: a student's neighbourhood as a graph and the report's histograms. */
@ApiExcludeController()
@Controller('graph')
export class GraphPageController {
  @Get()
  @Header('Content-Type', 'text/html; charset=utf-8')
  page(): StreamableFile {
    return new StreamableFile(createReadStream(join(__dirname, 'assets', 'graph.html')));
  }

  @Get('assets/:name')
  asset(@Param('name') name: string): StreamableFile {
    const asset = ASSETS.get(name);
    if (!asset) throw new NotFoundException();
    return new StreamableFile(createReadStream(asset.path), { type: asset.type });
  }
}
