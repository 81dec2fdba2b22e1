import { readdir, readFile } from 'node:fs/promises';

/** User + system CPU seconds of one process, from /proc/<pid>/stat fields 14 and 15 (clock ticks of 1/100 s). */
export async function processCpuSeconds(pid: number | string): Promise<number> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(') ') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

/** Resident memory of one process, in bytes (Linux). */
export async function processRssBytes(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+) kB/.exec(status)?.[1] ?? 0) * 1024;
}

/**
 * CPU seconds used so far by each PostgreSQL process on this machine (backends, WAL writer,
 * checkpointer…), by pid. Linux only; null elsewhere or when the server runs on another machine.
 */
export async function postgresCpuSeconds(): Promise<Map<string, number> | null> {
  let pids: string[];
  try {
    pids = (await readdir('/proc')).filter((name) => /^\d+$/.test(name));
  } catch {
    return null;
  }
  const byPid = new Map<string, number>();
  for (const pid of pids) {
    try {
      const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
      if (stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')')) === 'postgres') byPid.set(pid, await processCpuSeconds(pid));
    } catch {
      // the process ended meanwhile
    }
  }
  return byPid.size ? byPid : null;
}

/**
 * What PostgreSQL used between two snapshots: processes alive at the end count from the start (or
 * from nothing, when they started meanwhile). A backend that ended meanwhile (an idle connection
 * closed by its pool) takes its share with it; it was idle, so that share is small.
 */
function postgresDelta(before: Map<string, number> | null, after: Map<string, number> | null): number | null {
  if (!before || !after) return null;
  let total = 0;
  for (const [pid, seconds] of after) total += seconds - (before.get(pid) ?? 0);
  return total;
}

/** CPU seconds used during `phase` by the process under test, PostgreSQL and this load generator. */
export async function cpuSecondsDuring<T>(processCpuSeconds: () => Promise<number>, phase: () => Promise<T>) {
  const before = { service: await processCpuSeconds(), postgres: await postgresCpuSeconds(), load: process.cpuUsage() };
  const result = await phase();
  const service = await processCpuSeconds();
  const postgres = await postgresCpuSeconds();
  const load = process.cpuUsage(before.load);
  return {
    result,
    cpu: { service: service - before.service, postgres: postgresDelta(before.postgres, postgres), loadGenerator: (load.user + load.system) / 1e6 },
  };
}
