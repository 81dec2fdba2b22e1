import { describe, expect, it } from 'vitest';
import { newRowId } from './ids.js';

const UUID_V7 = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

describe('row ids', () => {
  it('are UUIDv7 whose first 48 bits are the creation time in milliseconds', () => {
    const before = Date.now();
    const id = newRowId();
    const after = Date.now();
    expect(id).toMatch(UUID_V7);
    const ms = parseInt(id.replaceAll('-', '').slice(0, 12), 16);
    expect(ms).toBeGreaterThanOrEqual(before);
    expect(ms).toBeLessThanOrEqual(after);
  });

  it('sort by creation time across milliseconds, and never repeat', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) {
      ids.push(newRowId());
      await new Promise((resolve) => setTimeout(resolve, 2));
    }
    expect([...ids].sort()).toEqual(ids);
    expect(new Set(Array.from({ length: 10_000 }, newRowId)).size).toBe(10_000);
  });

  it('fill both random bits after the variant', () => {
    const variants = new Set(Array.from({ length: 200 }, () => newRowId()[19]));
    expect([...variants].sort()).toEqual(['8', '9', 'a', 'b']);
  });
});
