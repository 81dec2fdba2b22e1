import { sql } from 'kysely';
import pg from 'pg';
import type { Db, Tx } from './database.js';

/** The NOTIFY channel; a single-statement change may notify on it itself (pg_notify(channel, 'topic:key')). */
export const INVALIDATION_CHANNEL = 'vci_invalidate';
const CHANNEL = INVALIDATION_CHANNEL;

/** A change to rows that some instance may hold a copy of: `key` of `topic` (`*`: all of them). */
export interface Change {
  topic: string;
  key: string;
}

/** How often the listening connection proves it is alive, and how long its last proof counts. */
export const HEARTBEAT_INTERVAL_MS = 1000;
export const LISTENER_TRUSTED_FOR_MS = 3000;

/**
 * Cross-instance cache invalidation over PostgreSQL LISTEN/NOTIFY. A change is announced inside its
 * own transaction, so every instance hears it when (and only if) the change commits. Caches are
 * trusted only while the listening connection is known to work: it answers a heartbeat every
 * second, and `live` turns false when the last answer is more than 3 s old (a connection that
 * stalls without closing would otherwise deliver nothing, silently) or the connection is down. A
 * change therefore reaches every instance's caches within about 3 s whatever happens to its
 * listener. On reconnecting every cache is cleared, since notifications may have been missed.
 */
export class Invalidations {
  #client: pg.Client | undefined;
  #connected = false;
  #confirmedAt = 0;
  #stopped = false;
  #retry: NodeJS.Timeout | undefined;
  #heartbeat: NodeJS.Timeout | undefined;
  readonly #handlers = new Map<string, Set<(key: string) => void>>();
  readonly #resets = new Set<() => void>();

  constructor(
    private readonly url: string | undefined,
    private readonly log: (message: string) => void = () => {},
  ) {}

  get live(): boolean {
    return this.#connected && Date.now() - this.#confirmedAt <= LISTENER_TRUSTED_FOR_MS;
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
      this.#connected = false;
      this.#client = undefined;
      clearInterval(this.#heartbeat);
      // end() waits for the server, which a stalled connection never answers: drop the socket.
      (client as unknown as { connection?: { stream?: { destroy(): void } } }).connection?.stream?.destroy();
      client.end().catch(() => {});
      if (!this.#stopped) this.#retry = setTimeout(() => void this.start(), 1000).unref();
    };
    client.on('error', lost);
    client.on('end', lost);
    client.on('notification', ({ payload }) => {
      this.#confirmedAt = Date.now();
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
    this.#confirmedAt = Date.now();
    this.#connected = true;
    let inFlight = false;
    this.#heartbeat = setInterval(() => {
      if (inFlight) {
        // The previous heartbeat is still unanswered: past the trusted window, give the connection up.
        if (Date.now() - this.#confirmedAt > LISTENER_TRUSTED_FOR_MS) lost();
        return;
      }
      inFlight = true;
      client.query('SELECT 1').then(
        () => {
          inFlight = false;
          if (this.#client === client) this.#confirmedAt = Date.now();
        },
        () => lost(),
      );
    }, HEARTBEAT_INTERVAL_MS).unref();
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    this.#connected = false;
    clearTimeout(this.#retry);
    clearInterval(this.#heartbeat);
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

  /**
   * The cached value, or `load()`'s (cached unless an invalidation arrived while loading, or
   * `cacheIf` says no). Undefined is not cached.
   */
  async get(key: string, load: () => Promise<V | undefined>, cacheIf: (value: V) => boolean = () => true): Promise<V | undefined> {
    const live = this.invalidations.live;
    const entry = live ? this.#entries.get(key) : undefined;
    if (entry && entry.expires > Date.now()) return entry.value;
    const generation = this.#generation;
    const value = await load();
    if (value !== undefined && live && this.invalidations.live && generation === this.#generation && cacheIf(value)) {
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
