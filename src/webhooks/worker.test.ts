import { describe, expect, it } from 'vitest';
import { nextStep, retryDelaySeconds } from './worker.js';

describe('retry policy', () => {
  it('doubles the delay after each failure, up to an hour, drawn from the upper half of each interval', () => {
    const low = () => 0;
    const high = () => 0.999_999;
    expect([1, 2, 3, 4, 5].map((attempt) => retryDelaySeconds(attempt, low))).toEqual([0.5, 1, 2, 4, 8]);
    expect(retryDelaySeconds(3, high)).toBeCloseTo(4, 3);
    expect(retryDelaySeconds(13, low)).toBe(1800);
    expect(retryDelaySeconds(40, high)).toBeCloseTo(3600, 0);
    for (let attempt = 1; attempt < 30; attempt++) {
      const delay = retryDelaySeconds(attempt);
      expect(delay).toBeGreaterThanOrEqual(Math.min(3600, 2 ** (attempt - 1)) / 2);
      expect(delay).toBeLessThanOrEqual(Math.min(3600, 2 ** (attempt - 1)));
    }
  });

  it('gives up once the next attempt would start past the retry period', () => {
    const from = new Date('2026-01-01T00:00:00Z');
    const at = (seconds: number) => new Date(from.getTime() + seconds * 1000);
    expect(nextStep(1, from, 86_400, at(0), () => 0)).toEqual({ retryInSeconds: 0.5 });
    expect(nextStep(20, from, 86_400, at(80_000), () => 0)).toEqual({ retryInSeconds: 1800 });
    expect(nextStep(20, from, 86_400, at(86_000), () => 0)).toBe('give-up');
    expect(nextStep(2, from, 1, at(0.5), () => 0)).toBe('give-up');
  });
});
