/// <reference lib="dom" />
import { mkdirSync } from 'node:fs';
import { Browser, chromium } from 'playwright-core';
import { clusteredVectors, seededRandom } from '../../workload/synthetic-vectors';
import { TestEnvironment } from '../support/harness';

const K = 8;

/** Counts pixels of the element's canvases that are not background, to tell a drawing from a blank. */
function inkedPixels(selector: string): number {
  let inked = 0;
  for (const canvas of Array.from(document.querySelectorAll(`${selector} canvas, canvas${selector}`)) as HTMLCanvasElement[]) {
    const context = canvas.getContext('2d');
    if (!context || canvas.width === 0) continue;
    const { data } = context.getImageData(0, 0, canvas.width, canvas.height);
    for (let i = 0; i < data.length; i += 4) if (data[i + 3] > 0 && (data[i] < 240 || data[i + 1] < 240 || data[i + 2] < 240)) inked++;
  }
  return inked;
}

describe('the /graph page in headless Chromium', () => {
  const env = new TestEnvironment({ MAX_NEIGHBORS: String(K), SIMILARITY_THRESHOLD: '0.1' });
  let browser: Browser;
  let url: string;

  beforeAll(async () => {
    await env.setUp(1);
    const ids = Array.from({ length: 150 }, (_, i) => `s-${String(i).padStart(3, '0')}`);
    const vectors = clusteredVectors(seededRandom(12), ids.length, 384, 6, 1);
    await env.writeEmbeddings(ids.map((studentId, i) => ({ studentId, vector: vectors[i] })));
    ({ url } = await env.startWorker());
    await env.publish(ids.map((id) => ({ key: id, value: JSON.stringify({ student_id: id }) })));
    await env.waitUntilConsumed();
    browser = await chromium.launch({
      executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
      args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
  });

  afterAll(async () => {
    await browser?.close();
    await env.tearDown();
  });

  it("draws a student's two-hop neighbourhood and the report's histograms", async () => {
    const page = await browser.newPage({ viewport: { width: 1280, height: 1000 } });
    const errors: string[] = [];
    page.on('pageerror', (error) => errors.push(error.message));
    await page.goto(`${url}/graph?student=s-007`);
    await page.waitForFunction(() => (window as unknown as { graphStats: { ready: boolean } }).graphStats.ready, undefined, { timeout: 30000 });
    const stats = await page.evaluate(() => (window as unknown as { graphStats: { nodes: number; edges: number; error: string | null } }).graphStats);
    expect(errors).toEqual([]);
    expect(stats.error).toBeNull();
    expect(stats.nodes).toBeGreaterThan(K);
    expect(stats.edges).toBeGreaterThanOrEqual(K);
    expect(await page.textContent('#status')).toMatch(/s-007: \d+ students/);
    expect(await page.evaluate(inkedPixels, '#network')).toBeGreaterThan(2000);
    expect(await page.evaluate(inkedPixels, '#similarity-chart')).toBeGreaterThan(500);
    expect(await page.evaluate(inkedPixels, '#degree-chart')).toBeGreaterThan(500);
    mkdirSync('.local', { recursive: true });
    const screenshot = await page.screenshot({ path: '.local/graph-page.png', fullPage: true });
    expect(screenshot.length).toBeGreaterThan(30000);
  });

  it('says so when the student is unknown', async () => {
    const page = await browser.newPage();
    await page.goto(`${url}/graph?student=nobody`);
    await page.waitForFunction(() => (window as unknown as { graphStats: { ready: boolean } }).graphStats.ready, undefined, { timeout: 30000 });
    expect(await page.textContent('#status')).toMatch(/cannot show nobody: .*404/);
  });
});
