import { sql, type Compilable } from 'kysely';
import type { Db } from './database.js';

/** The most bytes (as JSON text) a page of a list may hold, however many rows its `limit` allows. */
export const PAGE_BYTES = 4 * 1024 * 1024;

/**
 * Runs a list query (newest first by `seq`, `limit + 1` rows) and keeps the rows that start within
 * PAGE_BYTES of the page: a page of large rows (users' claims, configurations' mappings) stays a few
 * MB in memory rather than hundreds. The first row is always kept. `more` says whether rows follow.
 */
export async function withinPageBytes<Row extends { seq: string }>(db: Db, query: Compilable<Row>, limit: number): Promise<{ rows: Row[]; more: boolean }> {
  const { rows } = await sql<Row & { fetched: string; before: string }>`
    SELECT * FROM (
      SELECT page.*, count(*) OVER () AS fetched,
             sum(octet_length(page::text)) OVER (ORDER BY page.seq DESC ROWS UNBOUNDED PRECEDING) - octet_length(page::text) AS before
      FROM (${query}) AS page
    ) AS sized
    WHERE before < ${PAGE_BYTES}
    ORDER BY seq DESC`.execute(db);
  const fetched = Number(rows[0]?.fetched ?? 0);
  const kept = rows.map(({ fetched: _fetched, before: _before, ...row }) => row as unknown as Row);
  return { rows: kept.slice(0, limit), more: fetched > limit || kept.length < fetched };
}
