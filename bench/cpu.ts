import { readdir, readFile } from 'node:fs/promises';

/** User + system CPU seconds of one process, from /proc/<pid>/stat fields 14 and 15 (clock ticks of 1/100 s). */
export async function processCpuSeconds(pid: number | string): Promise<number> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(') ') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

/**
 * CPU seconds used so far by every PostgreSQL process on this machine (backends, WAL writer,
 * checkpointer…). Deltas over a phase whose connections stay open give PostgreSQL's share of the
 * work. Linux only; null elsewhere or when the server runs on another machine (no such process).
 */
export async function postgresCpuSeconds(): Promise<number | null> {
  let pids: string[];
  try {
    pids = (await readdir('/proc')).filter((name) => /^\d+$/.test(name));
  } catch {
    return null;
  }
  let total = 0;
  let found = false;
  for (const pid of pids) {
    try {
      const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
      if (stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')')) !== 'postgres') continue;
      found = true;
      total += await processCpuSeconds(pid);
    } catch {
      // the process ended meanwhile
    }
  }
  return found ? total : null;
}

/** CPU per completed operation of the service, PostgreSQL and the load generator, measured around `phase`. */
export async function cpuPerOperation<T extends { completed: number }>(serviceCpuSeconds: () => Promise<number>, phase: () => Promise<T>) {
  const before = { service: await serviceCpuSeconds(), postgres: await postgresCpuSeconds(), load: process.cpuUsage() };
  const result = await phase();
  const service = await serviceCpuSeconds();
  const postgres = await postgresCpuSeconds();
  const load = process.cpuUsage(before.load);
  const perOp = (seconds: number) => Math.round((seconds * 1e6) / Math.max(1, result.completed)) / 1000;
  return {
    result,
    cpuMsPerOp: {
      service: perOp(service - before.service),
      postgres: postgres === null || before.postgres === null ? null : perOp(postgres - before.postgres),
      loadGenerator: perOp((load.user + load.system) / 1e6),
    },
  };
}
