import { addPeriod, type ValidityPeriod } from '../format.js';

const DAY_MS = 24 * 3600 * 1000;
/** An mDL docType, of any edition of ISO/IEC 18013-5 (`org.iso.18013.5.1.mDL`). */
const MDL_DOCTYPE = /^org\.iso\.18013\.5\.\d+\.mDL$/;
/** How long an mDoc may be valid (MATTR VII's limits): an mDL at most 427 days, any other docType 3620. */
export const maxValidityDays = (docType: string) => (MDL_DOCTYPE.test(docType) ? 427 : 3620);
/** The validity of an mDoc whose configuration gives neither expiresIn nor validUntil. */
export const DEFAULT_VALIDITY: ValidityPeriod = { days: 365 };

/**
 * The longest a period can be, in days, whatever day it starts on: months and years vary with the
 * calendar (31 January plus a month ends on the last day of February). Every start day of a
 * four-year leap cycle is tried.
 */
export function longestPeriodDays(period: ValidityPeriod): number {
  let longest = 0;
  const start = Date.UTC(2024, 0, 1);
  for (let day = 0; day < 4 * 366; day++) {
    const from = new Date(start + day * DAY_MS);
    longest = Math.max(longest, (addPeriod(from, period).getTime() - from.getTime()) / DAY_MS);
  }
  return longest;
}

export interface ValiditySettings {
  type: string;
  expiresIn?: ValidityPeriod;
  validFrom?: string;
  validUntil?: string;
}

/**
 * What makes a configuration's mDocs never valid, checked when it is written: an end in the past or
 * before its start, or more than its docType allows (validUntil counted from validFrom or now; an
 * expiresIn counted in its longest calendar case).
 */
export function validityProblems(settings: ValiditySettings, now: Date): { path: string; message: string }[] {
  const max = maxValidityDays(settings.type);
  const validFrom = settings.validFrom ? new Date(settings.validFrom) : undefined;
  if (settings.validUntil) {
    const validUntil = new Date(settings.validUntil);
    const from = validFrom && validFrom > now ? validFrom : now;
    if (validUntil <= now) return [{ path: 'validUntil', message: 'must be in the future' }];
    if (validFrom && validUntil <= validFrom) return [{ path: 'validUntil', message: 'must be after validFrom' }];
    if (validUntil.getTime() - from.getTime() > max * DAY_MS) return [{ path: 'validUntil', message: `must be at most ${max} days after validFrom (or now) for docType ${settings.type}` }];
    return [];
  }
  const period = settings.expiresIn ?? DEFAULT_VALIDITY;
  if (longestPeriodDays(period) > max) return [{ path: 'expiresIn', message: `must be at most ${max} days for docType ${settings.type}` }];
  return [];
}

const wholeSeconds = (date: Date) => new Date(Math.floor(date.getTime() / 1000) * 1000);

/**
 * The MSO's validityInfo (ISO/IEC 18013-5 §9.1.2.4) for an mDoc signed at `signed`: validFrom no
 * earlier than signed, validUntil an explicit end or validFrom plus expiresIn (default 365 days),
 * within the docType's limit and never past `signerNotAfter` (the document signer's and the
 * IACA's end), all in whole seconds. A `problem` when no such validity exists.
 */
export function mdocValidity(
  settings: ValiditySettings,
  signed: Date,
  signerNotAfter: Date,
): { signed: Date; validFrom: Date; validUntil: Date } | { problem: string } {
  const signedAt = wholeSeconds(signed);
  const configuredFrom = settings.validFrom ? wholeSeconds(new Date(settings.validFrom)) : undefined;
  const validFrom = configuredFrom && configuredFrom > signedAt ? configuredFrom : signedAt;
  const end = settings.validUntil ? new Date(settings.validUntil) : addPeriod(validFrom, settings.expiresIn ?? DEFAULT_VALIDITY);
  const max = maxValidityDays(settings.type);
  if (end.getTime() - validFrom.getTime() > max * DAY_MS) return { problem: `The mDoc would be valid for more than the ${max} days docType ${settings.type} allows` };
  const validUntil = wholeSeconds(end < signerNotAfter ? end : signerNotAfter);
  if (validUntil <= validFrom) {
    return { problem: `The mDoc would not be valid before ${validUntil.toISOString()}, when ${end <= validUntil ? 'its configuration ends it' : "its document signer's certificate (or IACA) ends"}` };
  }
  return { signed: signedAt, validFrom, validUntil };
}
