import * as fs from 'fs';
import * as path from 'path';
import * as ts from 'typescript';

const REPO = path.resolve(__dirname, '..', '..');

/** Every .ts file under `dir` (relative to the repo), recursively. */
function sourceFiles(dir: string): string[] {
  return fs.readdirSync(path.join(REPO, dir), { withFileTypes: true }).flatMap((entry) => {
    const relative = path.join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(relative);
    return entry.name.endsWith('.ts') ? [relative] : [];
  });
}

/** The repo-relative targets of a file's relative imports (import, export from, require, import()); packages are left out. */
function relativeImports(file: string): string[] {
  const { importedFiles } = ts.preProcessFile(fs.readFileSync(path.join(REPO, file), 'utf8'), true, true);
  return importedFiles
    .map((imported) => imported.fileName)
    .filter((specifier) => specifier.startsWith('.'))
    .map((specifier) => path.relative(REPO, path.resolve(REPO, path.dirname(file), specifier)));
}

/** "file -> target" for each import of a file under `from` whose target lies under `forbidden`. */
function importsInto(from: string, forbidden: string): string[] {
  return sourceFiles(from).flatMap((file) =>
    relativeImports(file)
      .filter((target) => target === forbidden || target.startsWith(`${forbidden}${path.sep}`))
      .map((target) => `${file} -> ${target}`),
  );
}

describe('imports point one way', () => {
  it('finds the imports it is meant to judge', () => {
    // Guards the guard: if the parsing found nothing, every check below would pass vacuously.
    expect(relativeImports('src/similarity/embedding-intake.ts')).toContain(path.join('src', 'kafka', 'kafka-record'));
    expect(relativeImports('migrations/index.ts').length).toBeGreaterThan(0);
  });

  it('keeps the transport (src/kafka) free of the domain (src/similarity)', () => {
    expect(importsInto('src/kafka', 'src/similarity')).toEqual([]);
  });

  it('keeps every migration self-contained: nothing from src/', () => {
    expect(importsInto('migrations', 'src')).toEqual([]);
  });

  it('keeps the production code free of tests, bench and workload generators', () => {
    expect([...importsInto('src', 'test'), ...importsInto('src', 'bench'), ...importsInto('src', 'workload')]).toEqual([]);
  });
});
