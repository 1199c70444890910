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

/** CPU time by who spent it, in clock ticks. */
export interface CpuByProcess {
  worker: number;
  /** PostgreSQL's processes other than the upstream's session: the worker's sessions, autovacuum, WAL, checkpoints. */
  database: number;
  /** The PostgreSQL session that writes the upstream rows (and their HNSW index inserts). */
  upstreamWrites: number;
  kafka: number;
  bench: number;
  /** Everything else the machine was busy with: the kernel, processes that ended, other work. */
  rest: number;
}

export const CPU_GROUPS: readonly (keyof CpuByProcess)[] = ['worker', 'database', 'upstreamWrites', 'kafka', 'bench', 'rest'];

/** Which process is whose: the worker's and the upstream session's pids, the rest by command name. */
export interface ProcessRoles {
  workerPids: number[];
  upstreamBackendPid: number;
}

/** CPU time so far of each group of processes and of the whole machine; null without /proc. */
export function cpuByProcess(roles: ProcessRoles): { groups: CpuByProcess; machineBusy: number } | null {
  const machine = machineCpuTimes();
  if (!machine) return null;
  const groups: CpuByProcess = { worker: 0, database: 0, upstreamWrites: 0, kafka: 0, bench: 0, rest: 0 };
  for (const entry of fs.readdirSync('/proc').filter((name) => /^\d+$/.test(name))) {
    const stat = readProcessStat(Number(entry));
    if (!stat) continue;
    const group = roleOf(stat.pid, stat.command, roles);
    if (group) groups[group] += stat.ticks;
  }
  return { groups, machineBusy: machine.busy };
}

/** Each group's CPU milliseconds between two readings; what no group accounts for is the rest. */
export function cpuMsBetween(start: ReturnType<typeof cpuByProcess>, end: ReturnType<typeof cpuByProcess>): CpuByProcess | null {
  if (!start || !end) return null;
  const msPerTick = 1000 / CLOCK_TICKS_PER_SECOND;
  const spent = Object.fromEntries(CPU_GROUPS.map((g) => [g, Math.max(0, end.groups[g] - start.groups[g]) * msPerTick])) as unknown as CpuByProcess;
  const accounted = CPU_GROUPS.filter((g) => g !== 'rest').reduce((sum, g) => sum + spent[g], 0);
  spent.rest = Math.max(0, (end.machineBusy - start.machineBusy) * msPerTick - accounted);
  return spent;
}

/** Linux reports process and machine CPU time in USER_HZ ticks, 100 per second on every architecture it runs on. */
const CLOCK_TICKS_PER_SECOND = 100;

function roleOf(pid: number, command: string, roles: ProcessRoles): keyof CpuByProcess | null {
  if (roles.workerPids.includes(pid)) return 'worker';
  if (pid === process.pid) return 'bench';
  if (command === 'postgres') return pid === roles.upstreamBackendPid ? 'upstreamWrites' : 'database';
  if (command === 'java') return 'kafka';
  return null;
}

function readProcessStat(pid: number): { pid: number; command: string; ticks: number } | null {
  let stat: string;
  try {
    stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return null; // ended meanwhile
  }
  // The command is in parentheses and may hold spaces; utime and stime are fields 14 and 15.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return { pid, command: stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')')), ticks: Number(fields[11]) + Number(fields[12]) };
}
