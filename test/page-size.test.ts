import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { USERS } from './support/client.js';
import { startTestIssuer, type TestIssuer } from './support/issuer.js';

// A page holds at most `limit` rows and about 4 MB: a list of users with large claims never builds
// hundreds of MB in memory, and paging through it still returns every user exactly once.
let issuer: TestIssuer;
beforeAll(async () => {
  issuer = await startTestIssuer();
});
afterAll(() => issuer.close());

describe('pages of large rows', () => {
  it('are cut at about 4 MB, and the cursor continues where the page stopped', async () => {
    const api = issuer.client;
    const created = new Set<string>();
    for (let i = 0; i < 12; i++) created.add((await api.createUser({ blob: `${i}-${'x'.repeat(450 * 1024)}` })).id);
    const small = await api.createUser({ name: 'small' });
    created.add(small.id);

    const seen: string[] = [];
    const sizes: number[] = [];
    let cursor: string | null = null;
    do {
      const response = await api.get(`${USERS}?limit=1000${cursor ? `&cursor=${cursor}` : ''}`);
      expect(response.statusCode).toBe(200);
      sizes.push(response.body.length);
      const body = response.json() as { data: { id: string }[]; nextCursor: string | null };
      seen.push(...body.data.map((user) => user.id));
      cursor = body.nextCursor;
    } while (cursor);
    expect(sizes.length).toBeGreaterThan(1);
    for (const size of sizes) expect(size).toBeLessThan(4.6 * 1024 * 1024);
    expect(seen).toHaveLength(created.size);
    expect(new Set(seen)).toEqual(created);

    // The search pages the same way.
    const search = await api.post(`${USERS}/search`, { claims: {}, limit: 1000 });
    expect(search.json().nextCursor).not.toBeNull();
  });
});
