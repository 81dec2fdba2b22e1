/** Latency samples per step, in milliseconds, and error counts; percentiles by sorting (runs are short). */
export class StepStats {
  readonly samples = new Map<string, number[]>();
  readonly errors = new Map<string, number>();
  readonly errorExamples = new Map<string, string>();

  record(step: string, ms: number) {
    let list = this.samples.get(step);
    if (!list) this.samples.set(step, (list = []));
    list.push(ms);
  }

  fail(step: string, detail: string) {
    this.errors.set(step, (this.errors.get(step) ?? 0) + 1);
    if (!this.errorExamples.has(step)) this.errorExamples.set(step, detail.slice(0, 300));
  }

  /** Forgets the latency samples (after a ramp), keeping the errors. */
  clearSamples() {
    this.samples.clear();
  }

  get errorCount() {
    return [...this.errors.values()].reduce((a, b) => a + b, 0);
  }

  summary() {
    return Object.fromEntries(
      [...this.samples].map(([step, values]) => {
        const sorted = [...values].sort((a, b) => a - b);
        const at = (q: number) => round(sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? 0);
        return [step, { count: values.length, p50: at(0.5), p95: at(0.95), p99: at(0.99), max: round(sorted.at(-1) ?? 0) }];
      }),
    );
  }
}

export const round = (value: number, digits = 2) => Math.round(value * 10 ** digits) / 10 ** digits;

export const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
};

/**
 * Keeps `concurrency` loops of `task` in flight for `seconds` (closed loop: each loop starts its
 * next task when the previous one ends). Returns completed tasks per second.
 */
export async function runClosedLoop(options: { concurrency: number; seconds: number; task: (worker: number) => Promise<boolean> }) {
  const deadline = performance.now() + options.seconds * 1000;
  let completed = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: options.concurrency }, async (_, worker) => {
      while (performance.now() < deadline) {
        if (await options.task(worker)) completed++;
      }
    }),
  );
  const elapsed = (performance.now() - started) / 1000;
  return { completed, seconds: round(elapsed), perSecond: round(completed / elapsed, 1) };
}

/**
 * The concurrency at which throughput stops growing: closed loops at 4, 8, 16… in flight, `seconds`
 * each, until two levels in a row fail to beat the best by 5 %. Returns the knee, the smallest level
 * within 10 % of the best throughput (past it, more in flight only adds latency), and the ramp.
 */
export async function findSaturation(task: (worker: number) => Promise<boolean>, seconds: number, levels = [4, 8, 16, 32, 64, 128, 256]) {
  const ramp: { concurrency: number; perSecond: number }[] = [];
  let best = { concurrency: levels[0]!, perSecond: 0 };
  let misses = 0;
  for (const concurrency of levels) {
    const { perSecond } = await runClosedLoop({ concurrency, seconds, task });
    ramp.push({ concurrency, perSecond });
    if (perSecond > best.perSecond * 1.05) {
      best = { concurrency, perSecond };
      misses = 0;
    } else if (++misses === 2) {
      break;
    }
  }
  const knee = ramp.find((level) => level.perSecond >= 0.9 * best.perSecond)!;
  return { concurrency: knee.concurrency, ramp };
}
