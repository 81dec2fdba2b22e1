import { describe, expect, it } from 'vitest';
import { HttpError } from '../errors/http.js';
import { decodeCursor, toPage } from './pagination.js';

const rows = (...seqs: number[]) => seqs.map((seq) => ({ seq: String(seq), name: `row ${seq}` }));
const invalidCursor = (location: 'query' | 'body') => new HttpError(400, 'Validation Error', [{ location, param: 'cursor', msg: 'Invalid cursor' }]);

function refusal(cursor: string, location?: 'query' | 'body') {
  try {
    decodeCursor(cursor, location);
  } catch (error) {
    return error;
  }
  throw new Error(`decodeCursor accepted ${JSON.stringify(cursor)}`);
}

describe('pages and cursors', () => {
  it('a page of limit + 1 rows keeps limit of them and a cursor that decodes to the last one kept', () => {
    const page = toPage(rows(9, 7, 4), 2, (row) => row.name);
    expect(page.data).toEqual(['row 9', 'row 7']);
    expect(page.nextCursor).toMatch(/^[\w-]+$/);
    expect(decodeCursor(page.nextCursor!)).toBe('7');
  });

  it('the last page (limit rows or fewer) has no cursor', () => {
    expect(toPage(rows(9, 7), 2, (row) => row.seq)).toEqual({ data: ['9', '7'], nextCursor: null });
    expect(toPage([], 2, (row: { seq: string }) => row.seq)).toEqual({ data: [], nextCursor: null });
  });

  it('a cursor round-trips the largest identity value', () => {
    const page = toPage(rows(1, 0).map((row, index) => (index === 0 ? { ...row, seq: '9223372036854775807' } : row)), 1, (row) => row.seq);
    expect(decodeCursor(page.nextCursor!)).toBe('9223372036854775807');
  });

  it('no cursor is no position', () => {
    expect(decodeCursor(undefined)).toBeUndefined();
  });

  it('anything toPage did not make is a 400 naming cursor, where it was given', () => {
    const encode = (text: string) => Buffer.from(text).toString('base64url');
    const notMadeByToPage = [encode('7'), encode('s'), encode('s-1'), encode('s1x'), encode(' s7'), encode('s0'), encode('s007'), encode('s1e5')];
    const pastTheLargestBigint = [encode('s9223372036854775808'), encode(`s${'1'.repeat(20)}`)];
    for (const cursor of ['zzz', '', '%%%', ...notMadeByToPage, ...pastTheLargestBigint]) {
      expect(refusal(cursor), cursor).toEqual(invalidCursor('query'));
    }
    expect(refusal('zzz', 'body')).toEqual(invalidCursor('body'));
  });
});
