import { sql } from 'kysely';
import pg from 'pg';
import type { Db, Tx } from './database.js';

const CHANNEL = 'vci_invalidate';

/** A change to rows that some instance may hold a copy of: `key` of `topic` (`*`: all of them). */
export interface Change {
  topic: string;
  key: string;
}

/**
 * Cross-instance cache invalidation over PostgreSQL LISTEN/NOTIFY. A change is announced inside its
 * own transaction, so every instance hears it when (and only if) the change commits. While the
 * listening connection is down, caches must not be trusted: `live` is false, and on reconnecting
 * every cache is cleared, since notifications may have been missed.
 */
export class Invalidations {
  #client: pg.Client | undefined;
  #live = false;
  #stopped = false;
  #retry: NodeJS.Timeout | undefined;
  readonly #handlers = new Map<string, Set<(key: string) => void>>();
  readonly #resets = new Set<() => void>();

  constructor(
    private readonly url: string | undefined,
    private readonly log: (message: string) => void = () => {},
  ) {}

  get live(): boolean {
    return this.#live;
  }

  /** Calls `handler(key)` for each change of `topic`, and `reset()` whenever changes may have been missed. */
  subscribe(topic: string, handler: (key: string) => void, reset: () => void) {
    let set = this.#handlers.get(topic);
    if (!set) this.#handlers.set(topic, (set = new Set()));
    set.add(handler);
    this.#resets.add(reset);
  }

  /** Announces a change to every instance; delivered when the caller's transaction commits. */
  async announce(db: Db | Tx, change: Change): Promise<void> {
    await sql`SELECT pg_notify(${CHANNEL}, ${`${change.topic}:${change.key}`})`.execute(db);
  }

  /** Applies a committed change to this instance's caches at once, before its notification comes back. */
  applyLocally(change: Change): void {
    for (const handler of this.#handlers.get(change.topic) ?? []) handler(change.key);
  }

  async start(): Promise<void> {
    if (!this.url || this.#stopped) return;
    const client = new pg.Client({ connectionString: this.url, application_name: 'vci-issuer-invalidation', connectionTimeoutMillis: 3000 });
    const lost = () => {
      if (this.#client !== client) return;
      this.#live = false;
      this.#client = undefined;
      client.end().catch(() => {});
      if (!this.#stopped) this.#retry = setTimeout(() => void this.start(), 1000).unref();
    };
    client.on('error', lost);
    client.on('end', lost);
    client.on('notification', ({ payload }) => {
      const separator = payload?.indexOf(':') ?? -1;
      if (!payload || separator < 0) return;
      this.applyLocally({ topic: payload.slice(0, separator), key: payload.slice(separator + 1) });
    });
    try {
      await client.connect();
      await client.query(`LISTEN ${CHANNEL}`);
    } catch (error) {
      this.log(`cache invalidation listener could not connect: ${(error as Error).message}`);
      this.#client = client;
      lost();
      return;
    }
    this.#client = client;
    for (const reset of this.#resets) reset();
    this.#live = true;
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    this.#live = false;
    clearTimeout(this.#retry);
    const client = this.#client;
    this.#client = undefined;
    await client?.end().catch(() => {});
  }
}

/**
 * A read-through cache of database rows that is trusted only while invalidations are live, and for at
 * most `ttlMs` even then. It holds copies of database state, never state of its own.
 */
export class InvalidatedCache<V> {
  readonly #entries = new Map<string, { value: V; expires: number }>();
  private readonly ttlMs: number;
  private readonly maxEntries: number;
  /** Bumped by every invalidation: a value read before one arrived is not cached. */
  #generation = 0;

  /** `wholeTopic`: the cached values derive from every row of the topic, so any change drops them all. */
  constructor(
    private readonly invalidations: Invalidations,
    topic: string,
    options: { ttlMs?: number; maxEntries?: number; wholeTopic?: boolean } = {},
  ) {
    this.ttlMs = options.ttlMs ?? 60_000;
    this.maxEntries = options.maxEntries ?? 10_000;
    invalidations.subscribe(
      topic,
      (key) => this.#drop(options.wholeTopic ? '*' : key),
      () => this.#drop('*'),
    );
  }

  /** The cached value, or `load()`'s (cached unless an invalidation arrived while loading). Undefined is not cached. */
  async get(key: string, load: () => Promise<V | undefined>): Promise<V | undefined> {
    const live = this.invalidations.live;
    const entry = live ? this.#entries.get(key) : undefined;
    if (entry && entry.expires > Date.now()) return entry.value;
    const generation = this.#generation;
    const value = await load();
    if (value !== undefined && live && this.invalidations.live && generation === this.#generation) {
      if (this.#entries.size >= this.maxEntries) this.#entries.clear();
      this.#entries.set(key, { value, expires: Date.now() + this.ttlMs });
    }
    return value;
  }

  #drop(key: string) {
    this.#generation++;
    if (key === '*') this.#entries.clear();
    else this.#entries.delete(key);
  }
}
