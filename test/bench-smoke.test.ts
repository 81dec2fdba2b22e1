import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, inject, it } from 'vitest';

const ROOT = fileURLToPath(new URL('..', import.meta.url));

// A few seconds of `npm run bench`, so the benchmark cannot rot: every phase runs, every step
// answers as expected, both ceilings and ratios are reported, and the growth check's EXPLAIN runs.
describe('benchmark smoke run', () => {
  it('completes flows without errors and reports both ceilings and ratios', async () => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'bench/run.ts', '--json', '--duration', '1', '--warmup', '1', '--rounds', '1', '--concurrency', '2', '--pool-size', '2', '--seed-offers', '2000'], {
      cwd: ROOT,
      env: { ...process.env, DATABASE_URL: inject('serverUrl') },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => (stdout += chunk));
    child.stderr.on('data', (chunk) => (stderr += chunk));
    const code = await new Promise((resolve) => child.on('exit', resolve));
    expect(code, stderr).toBe(0);
    const report = JSON.parse(stdout);
    for (const phase of ['offers', 'flow', 'flowHalfConcurrency']) {
      expect(report.results[phase].completed, phase).toBeGreaterThan(0);
      expect(report.results[phase].errors, phase).toEqual({});
    }
    expect(Object.keys(report.results.flow.latencyMs)).toEqual(expect.arrayContaining(['offer', 'token', 'nonce', 'credential', 'flow']));
    expect(report.ceilings.httpOneInsert.perSecond).toBeGreaterThan(0);
    expect(report.ceilings.sqlOfFlow.perSecond).toBeGreaterThan(0);
    expect(report.ceilings.httpOneInsert.errors).toEqual({});
    expect(report.ceilings.sqlOfFlow.errors).toEqual({});
    expect(report.ratios).toEqual({ offersOverCeiling1: expect.any(Number), flowsOverCeiling2: expect.any(Number), seededOverEmpty: expect.any(Number) });
    expect(report.results.flowOnEmptyTable.errors).toEqual({});
    expect(report.postgres).toMatchObject({ fsync: 'on', synchronous_commit: 'on' });
    expect(report.stopExitCode).toBe(0);
    // The growth check: flows on an empty database measured in the same rounds, and EXPLAIN found every hot statement looking rows up through an index.
    expect(report.seedOffers).toBe(2000);
    expect(Object.keys(report.explain)).toHaveLength(10);
    for (const [name, { indexed, plan }] of Object.entries(report.explain as Record<string, { indexed: boolean; plan: string }>)) expect(indexed, `${name}: ${plan}`).toBe(true);
  }, 120_000);
});
