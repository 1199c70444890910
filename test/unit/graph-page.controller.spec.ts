import { NotFoundException, StreamableFile } from '@nestjs/common';
import { GraphPageController } from '../../src/graph-page/graph-page.controller';

describe('GraphPageController.asset', () => {
  const controller = new GraphPageController();

  it.each(['__proto__', 'constructor', 'toString', 'hasOwnProperty', 'valueOf', 'nothing.js'])('answers 404 for %s, which is not an asset', (name) => {
    expect(() => controller.asset(name)).toThrow(NotFoundException);
  });

  it('serves a listed asset with its content type', () => {
    const file = controller.asset('graph.js');
    expect(file).toBeInstanceOf(StreamableFile);
    expect(file.getHeaders().type).toBe('text/javascript; charset=utf-8');
    file.getStream().destroy();
  });
});
