import { afterEach, describe, expect, it, vi } from 'vitest';
import { InvalidatedCache, Invalidations } from './invalidation.js';

/**
 * Invalidations whose listening connection is up or down as the test says (a real one needs
 * PostgreSQL): the cache, subscribe and the dispatch of changes through applyLocally are the real ones.
 */
class Listening extends Invalidations {
  connected = true;
  constructor() {
    super(undefined);
  }
  override get live() {
    return this.connected;
  }
}

/** A loader that counts its calls and answers `value(key)`. */
function loader(value: (key: string) => string | undefined = (key) => `${key}@${Date.now()}`) {
  const calls: string[] = [];
  return { calls, load: (key: string) => async () => (calls.push(key), value(key)) };
}

afterEach(() => vi.useRealTimers());

describe('InvalidatedCache', () => {
  it('caches nothing while invalidations are not started: every read loads', async () => {
    const invalidations = new Invalidations(undefined);
    await invalidations.start(); // no database URL: it never goes live
    expect(invalidations.live).toBe(false);
    const cache = new InvalidatedCache<string>(invalidations, 'topic');
    const { calls, load } = loader((key) => key.toUpperCase());
    expect(await cache.get('a', load('a'))).toBe('A');
    expect(await cache.get('a', load('a'))).toBe('A');
    expect(calls).toEqual(['a', 'a']);
  });

  it('while live, loads each key once; undefined is never cached', async () => {
    const cache = new InvalidatedCache<string>(new Listening(), 'topic');
    const { calls, load } = loader((key) => (key === 'missing' ? undefined : key.toUpperCase()));
    for (let i = 0; i < 3; i++) {
      expect(await cache.get('a', load('a'))).toBe('A');
      expect(await cache.get('missing', load('missing'))).toBeUndefined();
    }
    expect(calls).toEqual(['a', 'missing', 'missing', 'missing']);
  });

  it('a change drops the entry of its key only, and only in caches of its topic', async () => {
    const invalidations = new Listening();
    const cache = new InvalidatedCache<string>(invalidations, 'topic');
    const other = new InvalidatedCache<string>(invalidations, 'other');
    const { calls, load } = loader();
    await Promise.all([cache.get('a', load('a')), cache.get('b', load('b')), other.get('a', load('other a'))]);
    invalidations.applyLocally({ topic: 'topic', key: 'a' });
    await Promise.all([cache.get('a', load('a')), cache.get('b', load('b')), other.get('a', load('other a'))]);
    expect(calls).toEqual(['a', 'b', 'other a', 'a']);
    // The key '*' stands for every row of the topic.
    invalidations.applyLocally({ topic: 'topic', key: '*' });
    await Promise.all([cache.get('a', load('a')), cache.get('b', load('b'))]);
    expect(calls.slice(4)).toEqual(['a', 'b']);
  });

  it('wholeTopic: any change of the topic drops every entry', async () => {
    const invalidations = new Listening();
    const cache = new InvalidatedCache<string>(invalidations, 'topic', { wholeTopic: true });
    const { calls, load } = loader();
    await Promise.all([cache.get('a', load('a')), cache.get('b', load('b'))]);
    invalidations.applyLocally({ topic: 'topic', key: 'some row' });
    await Promise.all([cache.get('a', load('a')), cache.get('b', load('b'))]);
    expect(calls).toEqual(['a', 'b', 'a', 'b']);
  });

  it('a value loaded while an invalidation arrived is returned but not cached', async () => {
    const invalidations = new Listening();
    const cache = new InvalidatedCache<string>(invalidations, 'topic');
    let calls = 0;
    const stale = cache.get('a', async () => {
      calls++;
      // The row changes (on another key even) while it is being read.
      invalidations.applyLocally({ topic: 'topic', key: 'b' });
      return 'stale';
    });
    expect(await stale).toBe('stale');
    expect(await cache.get('a', async () => (calls++, 'fresh'))).toBe('fresh');
    expect(await cache.get('a', async () => (calls++, 'never read'))).toBe('fresh');
    expect(calls).toBe(2);
  });

  it('keeps a value out when cacheIf refuses it, and still returns it', async () => {
    const cache = new InvalidatedCache<string>(new Listening(), 'topic');
    const { calls, load } = loader((key) => key.toUpperCase());
    const notAdmin = (value: string) => value !== 'ADMIN';
    for (const key of ['admin', 'admin', 'issuer', 'issuer']) expect(await cache.get(key, load(key), notAdmin)).toBe(key.toUpperCase());
    expect(calls).toEqual(['admin', 'admin', 'issuer']);
  });

  it('is not trusted, nor filled, while the listening connection is down', async () => {
    const invalidations = new Listening();
    const cache = new InvalidatedCache<string>(invalidations, 'topic');
    const { calls, load } = loader();
    await cache.get('a', load('a'));
    invalidations.connected = false;
    await cache.get('a', load('a'));
    await cache.get('b', load('b'));
    // Down in the middle of a load: not cached either.
    invalidations.connected = true;
    await cache.get('c', async () => {
      invalidations.connected = false;
      return load('c')();
    });
    invalidations.connected = true;
    await cache.get('b', load('b'));
    await cache.get('c', load('c'));
    expect(calls).toEqual(['a', 'a', 'b', 'c', 'b', 'c']);
  });

  it('trusts an entry for ttlMs at most', async () => {
    vi.useFakeTimers({ toFake: ['Date'], now: Date.parse('2025-06-15T12:00:00Z') });
    const cache = new InvalidatedCache<string>(new Listening(), 'topic', { ttlMs: 10_000 });
    const { calls, load } = loader();
    await cache.get('a', load('a'));
    vi.setSystemTime(Date.now() + 9_999);
    await cache.get('a', load('a'));
    vi.setSystemTime(Date.now() + 1);
    await cache.get('a', load('a'));
    expect(calls).toEqual(['a', 'a']);
  });

  it('starts again from empty when it holds maxEntries', async () => {
    const cache = new InvalidatedCache<string>(new Listening(), 'topic', { maxEntries: 2 });
    const { calls, load } = loader();
    for (const key of ['a', 'b', 'a', 'c', 'a', 'c']) await cache.get(key, load(key));
    // c found it full and cleared it: a is loaded again, c (kept since) is not.
    expect(calls).toEqual(['a', 'b', 'c', 'a']);
  });
});
