import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { Client } from 'pg';

export interface MachineInfo {
  os: string;
  cpu: string;
  cores: number;
  memoryGiB: number;
  node: string;
  postgres: string;
  pgvector: string;
  kafka: string;
}

export async function describeMachine(db: Client): Promise<MachineInfo> {
  const { rows: [versions] } = await db.query("SELECT current_setting('server_version') AS pg, (SELECT extversion FROM pg_extension WHERE extname = 'vector') AS vector");
  return {
    os: `${os.type()} ${os.release()} ${os.arch()}`,
    cpu: cpuModel(),
    cores: os.cpus().length,
    memoryGiB: Math.round(os.totalmem() / 2 ** 30),
    node: process.version,
    postgres: versions.pg,
    pgvector: versions.vector,
    kafka: kafkaVersion(),
  };
}

function cpuModel(): string {
  const cpuinfo = fs.existsSync('/proc/cpuinfo') ? fs.readFileSync('/proc/cpuinfo', 'utf8') : '';
  return /model name\s*:\s*(.+)/.exec(cpuinfo)?.[1].trim() ?? os.cpus()[0]?.model ?? 'unknown';
}

/** From the broker jar installed by scripts/services (kafka_<scala>-<version>.jar). */
function kafkaVersion(): string {
  const libs = path.resolve(__dirname, '..', '.local', 'kafka', 'libs');
  const jar = fs.existsSync(libs) ? fs.readdirSync(libs).find((f) => /^kafka_[\d.]+-[\d.]+\.jar$/.test(f)) : undefined;
  return jar ? /-([\d.]+)\.jar$/.exec(jar)![1] : 'unknown';
}

export interface CpuTimes {
  busy: number;
  total: number;
}

/** The machine's CPU time so far (all cores, in clock ticks) from /proc/stat; null where there is none. */
export function machineCpuTimes(): CpuTimes | null {
  if (!fs.existsSync('/proc/stat')) return null;
  const [, ...fields] = fs.readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/);
  const [user, nice, system, idle, iowait, irq, softirq, steal] = fields.map(Number);
  const busy = user + nice + system + irq + softirq + steal;
  return { busy, total: busy + idle + iowait };
}

/** The share of all cores' time that was busy between two readings (every process on the machine). */
export function busyShareBetween(start: CpuTimes | null, end: CpuTimes | null): number | null {
  if (!start || !end || end.total === start.total) return null;
  return (end.busy - start.busy) / (end.total - start.total);
}
