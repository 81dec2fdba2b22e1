import type pg from 'pg';

/** What a test issuer's tables hold, read straight from the database, for checks the API cannot make. */
export class Tables {
  constructor(private readonly pool: pg.Pool) {}

  async count(table: string): Promise<number> {
    const { rows } = await this.pool.query<{ count: string }>(`SELECT count(*) AS count FROM ${table}`);
    return Number(rows[0]!.count);
  }

  /** Row counts of the tables a management request may write. */
  async counts() {
    return { users: await this.count('users'), offers: await this.count('offers'), configurations: await this.count('credential_configurations') };
  }

  /** Events, oldest first. */
  async eventRows(where = 'true', values: unknown[] = []) {
    const { rows } = await this.pool.query<{ type: string; category: string; request_id: string | null; actor: string | null; data: Record<string, unknown> }>(
      `SELECT type, category, request_id, actor, data FROM events WHERE ${where} ORDER BY seq`,
      values,
    );
    return rows;
  }

  /**
   * Every row of every table of the public schema, as one string: each value JSON-encoded, with
   * bytea values rendered both as hex and as (lossy) UTF-8 so that a plaintext stored as bytes shows up.
   */
  async dump(): Promise<{ text: string; tables: string[]; rows: number }> {
    const { rows: tables } = await this.pool.query<{ table_name: string }>(
      `SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' AND table_type = 'BASE TABLE' ORDER BY table_name`,
    );
    const parts: string[] = [];
    let count = 0;
    for (const { table_name } of tables) {
      const { rows } = await this.pool.query(`SELECT * FROM "${table_name}"`);
      count += rows.length;
      for (const row of rows) {
        parts.push(
          `${table_name}:${JSON.stringify(row, function (this: Record<string, unknown>, key, value) {
            const raw = this[key];
            if (Buffer.isBuffer(raw)) return { hex: raw.toString('hex'), utf8: raw.toString('utf8') };
            return value;
          })}`,
        );
      }
    }
    return { text: parts.join('\n'), tables: tables.map((t) => t.table_name), rows: count };
  }
}
