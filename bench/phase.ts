import { cpuSecondsDuring } from './cpu.js';
import { StepStats, findSaturation, median, round, runClosedLoop } from './stats.js';

/**
 * One thing measured (offers, flows, a ceiling): found its saturating concurrency once, then measured
 * in several short rounds interleaved with the others, so that a slow drift of the machine weighs on
 * both sides of a ratio alike. Latency and errors accumulate over every round (and the ramp's errors).
 */
export class Phase {
  readonly stats = new StepStats();
  ramp?: { concurrency: number; perSecond: number }[];
  readonly rounds: number[] = [];
  private completed = 0;
  private seconds = 0;
  private readonly cpu = { service: 0, postgres: 0 as number | null, loadGenerator: 0 };

  constructor(
    readonly name: string,
    /** CPU seconds used so far by the process under test (0 when it is this process). */
    private readonly processCpu: () => Promise<number>,
    private readonly task: (stats: StepStats) => Promise<boolean>,
    public concurrency: number | undefined,
    private readonly log: (line: string) => void,
  ) {}

  async saturate(rampSeconds: number) {
    if (this.concurrency !== undefined) return;
    const { concurrency, ramp } = await findSaturation(() => this.task(this.stats), rampSeconds);
    this.concurrency = concurrency;
    this.ramp = ramp;
    this.stats.clearSamples();
    this.log(`  ${this.name}: saturates at concurrency ${concurrency} (ramp ${ramp.map((level) => `${level.concurrency}: ${level.perSecond}/s`).join(', ')})`);
  }

  /** Measures one round; returns its throughput. */
  async round(seconds: number): Promise<number> {
    const concurrency = this.concurrency!;
    const { result, cpu } = await cpuSecondsDuring(this.processCpu, () => runClosedLoop({ concurrency, seconds, task: () => this.task(this.stats) }));
    this.completed += result.completed;
    this.seconds += result.seconds;
    this.cpu.service += cpu.service;
    this.cpu.postgres = this.cpu.postgres === null || cpu.postgres === null ? null : this.cpu.postgres + cpu.postgres;
    this.cpu.loadGenerator += cpu.loadGenerator;
    this.rounds.push(result.perSecond);
    return result.perSecond;
  }

  summary() {
    const perOp = (seconds: number | null) => (seconds === null ? null : round((seconds * 1000) / Math.max(1, this.completed), 3));
    return {
      /** The median round. */
      perSecond: round(median(this.rounds), 1),
      rounds: this.rounds,
      concurrency: this.concurrency!,
      ...(this.ramp && { ramp: this.ramp }),
      completed: this.completed,
      seconds: round(this.seconds),
      cpuMsPerOp: { service: perOp(this.cpu.service), postgres: perOp(this.cpu.postgres), loadGenerator: perOp(this.cpu.loadGenerator) },
      errors: Object.fromEntries(this.stats.errors),
      errorExamples: Object.fromEntries(this.stats.errorExamples),
      latencyMs: this.stats.summary(),
    };
  }
}
