import { describe, expect, it } from 'vitest';
import { FailedAuthThrottle } from './auth-throttle.js';

describe('FailedAuthThrottle', () => {
  it('refuses an address after its failures of the minute, for the rest of that minute, and no other address', () => {
    let now = 1_000_000;
    const throttle = new FailedAuthThrottle(3, () => now);
    for (let i = 0; i < 3; i++) {
      expect(throttle.retryAfterSeconds('a')).toBe(0);
      throttle.recordFailure('a');
    }
    expect(throttle.retryAfterSeconds('a')).toBe(60);
    expect(throttle.retryAfterSeconds('b')).toBe(0);
    now += 45_000;
    expect(throttle.retryAfterSeconds('a')).toBe(15);
    now += 15_000;
    expect(throttle.retryAfterSeconds('a')).toBe(0);
    throttle.recordFailure('a');
    expect(throttle.retryAfterSeconds('a')).toBe(0);
  });

  it('0 switches it off', () => {
    const throttle = new FailedAuthThrottle(0);
    for (let i = 0; i < 1000; i++) throttle.recordFailure('a');
    expect(throttle.retryAfterSeconds('a')).toBe(0);
  });
});
