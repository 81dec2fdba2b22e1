import { z } from 'zod';
import { HttpError } from '../errors/http.js';

/** `limit` and `cursor` for every list (MATTR VII convention). */
export const pageQuerySchema = z.object({
  limit: z.coerce.number().int().min(1).max(1000).default(100),
  cursor: z.string().max(64).optional(),
});

export const pageSchema = <T extends z.ZodType>(item: T) => z.object({ data: z.array(item), nextCursor: z.string().nullable() });

const MAX_BIGINT = 2n ** 63n - 1n;

/**
 * Cursors are opaque to clients; inside they are the `seq` (identity column) of the last row
 * returned, so pages are stable keyset scans over an index, newest first. A cursor that is not one
 * is a 400 at `location` (the query string, or the body of a search).
 */
export function decodeCursor(cursor: string | undefined, location: 'query' | 'body' = 'query'): string | undefined {
  if (cursor === undefined) return undefined;
  const seq = /^s([1-9]\d{0,18})$/.exec(Buffer.from(cursor, 'base64url').toString('utf8'))?.[1];
  // An identity column is a positive bigint: anything else was not made by toPage.
  if (!seq || BigInt(seq) > MAX_BIGINT) throw new HttpError(400, 'Validation Error', [{ location, param: 'cursor', msg: 'Invalid cursor' }]);
  return seq;
}

/**
 * Turns `limit + 1` rows (fetched newest first) into a page. `more` says whether rows follow when the
 * store cut the page short itself (see db/pages.ts); otherwise the extra row says it.
 */
/** A row as the API shows it: `seq` only orders pages (the cursor), it is not part of the resource. */
export const withoutSeq = <T extends { seq: string }>({ seq: _seq, ...rest }: T) => rest;

export function toPage<Row extends { seq: string }, Out>(rows: Row[], limit: number, map: (row: Row) => Out, more = rows.length > limit) {
  const page = rows.slice(0, limit);
  const last = page.at(-1);
  return {
    data: page.map(map),
    nextCursor: more && last ? Buffer.from(`s${last.seq}`).toString('base64url') : null,
  };
}
