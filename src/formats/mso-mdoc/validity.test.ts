import { describe, expect, it } from 'vitest';
import { longestPeriodDays, maxValidityDays, mdocValidity, validityProblems } from './validity.js';

const MDL = 'org.iso.18013.5.1.mDL';
const NOW = new Date('2026-03-15T10:00:00.500Z');
const DAY = 86_400_000;
const later = (days: number) => new Date(NOW.getTime() + days * DAY);

describe('validity limits', () => {
  it('an mDL of any edition at most 427 days, any other docType 3620', () => {
    expect(maxValidityDays(MDL)).toBe(427);
    expect(maxValidityDays('org.iso.18013.5.2.mDL')).toBe(427);
    for (const type of ['org.iso.18013.5.1.mDLx', 'eu.europa.ec.eudi.pid.1', 'org.iso.18013.5.1']) expect(maxValidityDays(type), type).toBe(3620);
  });

  it('the longest a calendar period can last, in days', () => {
    expect(longestPeriodDays({ days: 427 })).toBe(427);
    expect(longestPeriodDays({ years: 1 })).toBe(366);
    expect(longestPeriodDays({ months: 14 })).toBe(428);
    expect(longestPeriodDays({ months: 13, days: 30 })).toBe(427);
    expect(longestPeriodDays({ years: 10 })).toBe(3653);
    expect(longestPeriodDays({ years: 9, months: 10 })).toBe(3594);
  });
});

describe('validityProblems (when a configuration is written)', () => {
  it('refuses an mDL valid longer than 427 days, whatever the calendar, and accepts the rest', () => {
    expect(validityProblems({ type: MDL, expiresIn: { days: 427 } }, NOW)).toEqual([]);
    expect(validityProblems({ type: MDL }, NOW)).toEqual([]);
    expect(validityProblems({ type: MDL, expiresIn: { months: 14 } }, NOW)).toEqual([{ path: 'expiresIn', message: `must be at most 427 days for docType ${MDL}` }]);
    expect(validityProblems({ type: 'org.example.1', expiresIn: { years: 9, months: 10 } }, NOW)).toEqual([]);
    expect(validityProblems({ type: 'org.example.1', expiresIn: { years: 10 } }, NOW)).toHaveLength(1);
  });

  it('validUntil: in the future, after validFrom, within the limit counted from validFrom or now', () => {
    expect(validityProblems({ type: MDL, validUntil: later(400).toISOString() }, NOW)).toEqual([]);
    expect(validityProblems({ type: MDL, validUntil: later(-1).toISOString() }, NOW)).toEqual([{ path: 'validUntil', message: 'must be in the future' }]);
    expect(validityProblems({ type: MDL, validFrom: later(10).toISOString(), validUntil: later(5).toISOString() }, NOW)).toEqual([
      { path: 'validUntil', message: 'must be after validFrom' },
    ]);
    expect(validityProblems({ type: MDL, validUntil: later(428).toISOString() }, NOW)[0]?.path).toBe('validUntil');
    expect(validityProblems({ type: MDL, validFrom: later(100).toISOString(), validUntil: later(500).toISOString() }, NOW)).toEqual([]);
    // An explicit validUntil wins over expiresIn, which is then not checked.
    expect(validityProblems({ type: MDL, expiresIn: { years: 5 }, validUntil: later(30).toISOString() }, NOW)).toEqual([]);
  });
});

describe('mdocValidity (when an mDoc is signed)', () => {
  const signerEnd = later(457);

  it('signed and validFrom are the signing time in whole seconds; validUntil validFrom plus expiresIn, or 365 days', () => {
    expect(mdocValidity({ type: MDL, expiresIn: { days: 30 } }, NOW, signerEnd)).toEqual({
      signed: new Date('2026-03-15T10:00:00Z'),
      validFrom: new Date('2026-03-15T10:00:00Z'),
      validUntil: new Date('2026-04-14T10:00:00Z'),
    });
    expect(mdocValidity({ type: MDL }, NOW, signerEnd)).toMatchObject({ validUntil: new Date('2027-03-15T10:00:00Z') });
  });

  it('a later validFrom moves the start; an explicit validUntil wins over expiresIn', () => {
    expect(mdocValidity({ type: MDL, validFrom: '2026-04-01T00:00:00Z', expiresIn: { days: 10 } }, NOW, signerEnd)).toMatchObject({
      validFrom: new Date('2026-04-01T00:00:00Z'),
      validUntil: new Date('2026-04-11T00:00:00Z'),
    });
    expect(mdocValidity({ type: MDL, validFrom: '2020-01-01T00:00:00Z', validUntil: '2026-06-01T00:00:00.700Z', expiresIn: { days: 1 } }, NOW, signerEnd)).toMatchObject({
      validFrom: new Date('2026-03-15T10:00:00Z'),
      validUntil: new Date('2026-06-01T00:00:00Z'),
    });
  });

  it("never past the document signer's (or IACA's) end", () => {
    expect(mdocValidity({ type: 'org.example.1', expiresIn: { years: 5 } }, NOW, new Date('2026-09-01T12:00:00.250Z'))).toMatchObject({ validUntil: new Date('2026-09-01T12:00:00Z') });
  });

  it('no validity at all: a configured end already past, a signer ending before validFrom, more than the docType allows', () => {
    expect(mdocValidity({ type: MDL, validUntil: '2026-03-01T00:00:00Z' }, NOW, signerEnd)).toEqual({ problem: expect.stringMatching(/its configuration ends it/) });
    expect(mdocValidity({ type: MDL, validFrom: later(30).toISOString() }, NOW, later(20))).toEqual({ problem: expect.stringMatching(/document signer/) });
    expect(mdocValidity({ type: MDL, validFrom: '2026-03-20T00:00:00Z', validUntil: '2027-06-01T00:00:00Z' }, NOW, signerEnd)).toEqual({ problem: expect.stringMatching(/427 days/) });
  });
});
