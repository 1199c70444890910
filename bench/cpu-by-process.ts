import * as fs from 'fs';
import * as os from 'os';
import { Client } from 'pg';

export interface MachineInfo {
  cpu: string;
  /** What the floor's CPU per event is divided among. */
  cores: number;
  memoryGiB: number;
  os: string;
  node: string;
  postgres: string;
  pgvector: string;
}

export async function describeMachine(db: Client): Promise<MachineInfo> {
  const { rows: [versions] } = await db.query("SELECT current_setting('server_version') AS pg, (SELECT extversion FROM pg_extension WHERE extname = 'vector') AS vector");
  const cpuinfo = fs.existsSync('/proc/cpuinfo') ? fs.readFileSync('/proc/cpuinfo', 'utf8') : '';
  return {
    cpu: /model name\s*:\s*(.+)/.exec(cpuinfo)?.[1].trim() ?? os.cpus()[0]?.model ?? 'unknown',
    cores: os.cpus().length,
    memoryGiB: Math.round(os.totalmem() / 2 ** 30),
    os: `${os.type()} ${os.release()} ${os.arch()}`,
    node: process.version,
    postgres: versions.pg,
    pgvector: versions.vector,
  };
}

export interface CpuTimes {
  busy: number;
  total: number;
}

/** The machine's CPU time so far (all cores, in clock ticks) from /proc/stat; null where there is none. */
function machineCpuTimes(): CpuTimes | null {
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

/** CPU time by who spent it, in clock ticks (milliseconds once taken between two readings). */
export interface CpuByProcess {
  worker: number;
  /** PostgreSQL sessions other than the upstream's: the worker's. */
  databaseSessions: number;
  /** The PostgreSQL session that writes the upstream rows (and their HNSW index inserts). */
  upstreamWrites: number;
  /**
   * PostgreSQL's own processes (WAL writer, checkpointer, autovacuum) and every PostgreSQL process
   * that ended during the phase: at W1 mostly the worker's pool sessions closed after sitting idle,
   * then autovacuum workers. Their time is only known in sum, from the
   * postmaster's ended children.
   */
  databaseBackground: number;
  kafka: number;
  bench: number;
  /** Everything else the machine was busy with: the kernel, other processes. */
  rest: number;
}

export const CPU_GROUPS: readonly (keyof CpuByProcess)[] = ['worker', 'databaseSessions', 'upstreamWrites', 'databaseBackground', 'kafka', 'bench', 'rest'];

/** Which process is whose: the worker's and the upstream session's pids, the rest by command name and title. */
export interface ProcessRoles {
  workerPids: number[];
  upstreamBackendPid: number;
}

interface ProcessCpu {
  group: keyof CpuByProcess;
  ticks: number;
  /** Ticks of its children that ended (the postmaster's are PostgreSQL's ended processes). */
  endedChildTicks: number;
  isPostmaster: boolean;
}

export interface CpuReading {
  processes: Map<number, ProcessCpu>;
  machine: CpuTimes;
}

/** CPU time so far of every process of interest and of the whole machine; null without /proc. */
export function readCpu(roles: ProcessRoles): CpuReading | null {
  const machine = machineCpuTimes();
  if (!machine) return null;
  const processes = new Map<number, ProcessCpu>();
  for (const pid of fs.readdirSync('/proc').filter((name) => /^\d+$/.test(name)).map(Number)) {
    const stat = readProcessStat(pid);
    if (!stat) continue;
    const title = stat.command === 'postgres' ? processTitle(pid) : '';
    const group = roleOf(pid, stat.command, title, roles);
    // PostgreSQL titles its children "postgres: ..."; the postmaster keeps its command line.
    if (group) processes.set(pid, { group, ticks: stat.ticks, endedChildTicks: stat.endedChildTicks, isPostmaster: stat.command === 'postgres' && !title.startsWith('postgres:') });
  }
  return { processes, machine };
}

/**
 * Each group's CPU milliseconds between two readings. A PostgreSQL process that ended in between
 * is found in the postmaster's ended-children time, less what it had spent before the phase;
 * what no group accounts for is the rest.
 */
export function cpuMsBetween(start: CpuReading | null, end: CpuReading | null): CpuByProcess | null {
  if (!start || !end) return null;
  const ticks: CpuByProcess = { worker: 0, databaseSessions: 0, upstreamWrites: 0, databaseBackground: 0, kafka: 0, bench: 0, rest: 0 };
  for (const [pid, now] of end.processes) ticks[now.group] += now.ticks - (start.processes.get(pid)?.ticks ?? 0);
  const postmaster = (reading: CpuReading) => [...reading.processes.values()].find((p) => p.isPostmaster)?.endedChildTicks ?? 0;
  const endedBefore = [...start.processes].filter(([pid, p]) => !end.processes.has(pid) && isDatabaseGroup(p.group)).reduce((sum, [, p]) => sum + p.ticks, 0);
  ticks.databaseBackground += postmaster(end) - postmaster(start) - endedBefore;
  const accounted = CPU_GROUPS.reduce((sum, g) => sum + ticks[g], 0);
  ticks.rest = Math.max(0, end.machine.busy - start.machine.busy - accounted);
  const msPerTick = 1000 / CLOCK_TICKS_PER_SECOND;
  return Object.fromEntries(CPU_GROUPS.map((g) => [g, ticks[g] * msPerTick])) as unknown as CpuByProcess;
}

/** Linux reports process and machine CPU time in USER_HZ ticks, 100 per second on every architecture it runs on. */
const CLOCK_TICKS_PER_SECOND = 100;

/** PostgreSQL's own processes, by the titles it gives them (sessions are titled by user, database and client). */
const DATABASE_BACKGROUND = /^postgres: (checkpointer|background writer|walwriter|autovacuum|logical replication|logger|io worker|walsummarizer|archiver|startup)/;

const isDatabaseGroup = (group: keyof CpuByProcess) => group === 'databaseSessions' || group === 'upstreamWrites' || group === 'databaseBackground';

function roleOf(pid: number, command: string, title: string, roles: ProcessRoles): keyof CpuByProcess | null {
  if (roles.workerPids.includes(pid)) return 'worker';
  if (pid === process.pid) return 'bench';
  if (command === 'java') return 'kafka';
  if (command !== 'postgres') return null;
  if (pid === roles.upstreamBackendPid) return 'upstreamWrites';
  return DATABASE_BACKGROUND.test(title) || !title.startsWith('postgres:') ? 'databaseBackground' : 'databaseSessions';
}

function processTitle(pid: number): string {
  try {
    return fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ').trim();
  } catch {
    return '';
  }
}

function readProcessStat(pid: number): { command: string; ticks: number; endedChildTicks: number } | null {
  let stat: string;
  try {
    stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return null; // ended meanwhile
  }
  // The command is in parentheses and may hold spaces; utime, stime, cutime, cstime are fields 14 to 17.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ').map(Number);
  return { command: stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')')), ticks: fields[11] + fields[12], endedChildTicks: fields[13] + fields[14] };
}
