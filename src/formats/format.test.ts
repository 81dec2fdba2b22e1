import { describe, expect, it } from 'vitest';
import { addPeriod } from './format.js';

const add = (from: string, period: Parameters<typeof addPeriod>[1]) => addPeriod(new Date(from), period).toISOString();

describe('addPeriod', () => {
  it('adds months and years by the calendar, keeping the time of day (UTC)', () => {
    expect(add('2025-01-15T10:30:00Z', { months: 1 })).toBe('2025-02-15T10:30:00.000Z');
    expect(add('2025-12-15T23:59:59Z', { months: 1 })).toBe('2026-01-15T23:59:59.000Z');
    expect(add('2025-03-15T00:00:00Z', { years: 1, months: 11 })).toBe('2027-02-15T00:00:00.000Z');
    expect(add('2025-03-15T00:00:00Z', { months: 24 })).toBe('2027-03-15T00:00:00.000Z');
  });

  it('from a day the target month lacks, ends on that month’s last day (as PostgreSQL and java.time do)', () => {
    expect(add('2025-01-31T10:00:00Z', { months: 1 })).toBe('2025-02-28T10:00:00.000Z');
    expect(add('2024-01-31T10:00:00Z', { months: 1 })).toBe('2024-02-29T10:00:00.000Z');
    expect(add('2025-05-31T00:00:00Z', { months: 1 })).toBe('2025-06-30T00:00:00.000Z');
    expect(add('2025-01-30T00:00:00Z', { months: 1 })).toBe('2025-02-28T00:00:00.000Z');
    expect(add('2025-08-31T00:00:00Z', { months: 18 })).toBe('2027-02-28T00:00:00.000Z');
  });

  it('leap years: 29 February plus a year is 28 February, plus four years is 29 February again', () => {
    expect(add('2024-02-29T12:00:00Z', { years: 1 })).toBe('2025-02-28T12:00:00.000Z');
    expect(add('2024-02-29T12:00:00Z', { years: 4 })).toBe('2028-02-29T12:00:00.000Z');
    expect(add('2023-02-28T00:00:00Z', { days: 1 })).toBe('2023-03-01T00:00:00.000Z');
    expect(add('2024-02-28T00:00:00Z', { days: 1 })).toBe('2024-02-29T00:00:00.000Z');
    expect(add('2024-01-01T00:00:00Z', { days: 366 })).toBe('2025-01-01T00:00:00.000Z');
  });

  it('adds weeks, days, hours, minutes and seconds as fixed lengths, all together', () => {
    expect(add('2025-01-01T00:00:00Z', { weeks: 1, days: 2, hours: 3, minutes: 4, seconds: 5 })).toBe('2025-01-10T03:04:05.000Z');
    expect(add('2025-01-31T23:59:59Z', { seconds: 1 })).toBe('2025-02-01T00:00:00.000Z');
    // Months first, then the fixed part: Jan 31 + 1 month + 1 day is Mar 1.
    expect(add('2025-01-31T00:00:00Z', { months: 1, days: 1 })).toBe('2025-03-01T00:00:00.000Z');
  });

  it('does not change the date it is given', () => {
    const from = new Date('2025-01-15T00:00:00Z');
    addPeriod(from, { years: 1, days: 1 });
    expect(from.toISOString()).toBe('2025-01-15T00:00:00.000Z');
  });
});
