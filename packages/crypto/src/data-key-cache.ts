/**
 * A bounded cache of data-key materials with single-flight loading.
 *
 * Why not the Encryption SDK's caching CMM: it has no single-flight (a cold burst of N encrypts makes N
 * KMS calls — aws-encryption-sdk-javascript issue #421) and its encrypt cache key includes the whole
 * encryption context, so per-record contexts never share a data key. See README.
 */

/** Hard bounds of one cache. */
export interface DataKeyCacheLimits {
  /** An entry older than this is never used again. */
  readonly maxAgeMs: number;
  /** Uses (messages) per entry; `Infinity` to not count. */
  readonly maxMessages: number;
  /** Plaintext bytes per entry; `Infinity` to not count. */
  readonly maxBytes: number;
  /** Entries kept; the least recently used goes first. */
  readonly maxEntries: number;
}

/** Counters of one cache, for tests, metrics and the benchmark. */
export interface DataKeyCacheStats {
  hits: number;
  /** Loads started (each is one KMS call through the keyring). */
  loads: number;
  entries: number;
}

interface Entry<T> {
  readonly value: T;
  readonly createdAt: number;
  messages: number;
  bytes: number;
  disposed: boolean;
}

/**
 * Cache of `T` (materials holding a plaintext data key) by string key. `use` hands out a copy made by
 * `take` synchronously with the accounting, so evicting (and zeroing) an entry never affects a copy.
 */
export class DataKeyCache<T> {
  readonly #entries = new Map<string, Entry<T>>();
  readonly #inflight = new Map<string, Promise<Entry<T>>>();
  readonly #stats: DataKeyCacheStats = { hits: 0, loads: 0, entries: 0 };

  constructor(
    private readonly limits: DataKeyCacheLimits,
    private readonly dispose: (value: T) => void,
  ) {}

  /**
   * Returns `take(value)` for a cached value under `key` that still has room for one more message of
   * `bytes` bytes, loading one with `load` otherwise. Concurrent callers of a missing key share one load.
   * A message larger than `maxBytes` gets a value of its own that is never cached.
   */
  async use<R>(key: string, bytes: number, load: () => Promise<T>, take: (value: T) => R): Promise<R> {
    const { maxAgeMs, maxMessages, maxBytes } = this.limits;
    if (bytes > maxBytes) {
      this.#stats.loads++;
      const value = await load();
      try {
        return take(value);
      } finally {
        this.dispose(value);
      }
    }
    let awaited: Entry<T> | undefined;
    for (;;) {
      const entry = this.#entries.get(key);
      if (entry) {
        // An entry this caller just waited for is used even if a slow load made it "old": otherwise a
        // KMS slower than maxAgeMs would loop forever.
        const fresh = entry === awaited || Date.now() - entry.createdAt < maxAgeMs;
        if (fresh && entry.messages + 1 <= maxMessages && entry.bytes + bytes <= maxBytes) {
          entry.messages++;
          entry.bytes += bytes;
          if (entry !== awaited) this.#stats.hits++;
          // Least recently used goes first: move to the end of the insertion order.
          this.#entries.delete(key);
          this.#entries.set(key, entry);
          return take(entry.value);
        }
        this.#evict(key, entry);
      }
      let pending = this.#inflight.get(key);
      if (!pending) {
        this.#stats.loads++;
        pending = load()
          .then((value) => this.#insert(key, value))
          .finally(() => this.#inflight.delete(key));
        this.#inflight.set(key, pending);
      }
      awaited = await pending;
    }
  }

  /** Counters since creation. */
  stats(): DataKeyCacheStats {
    return { ...this.#stats, entries: this.#entries.size };
  }

  /** Drops and zeroes every entry (e.g. after a key rotation or in tests). */
  clear(): void {
    for (const [key, entry] of this.#entries) this.#evict(key, entry);
  }

  #insert(key: string, value: T): Entry<T> {
    const old = this.#entries.get(key);
    if (old) this.#evict(key, old);
    const entry: Entry<T> = { value, createdAt: Date.now(), messages: 0, bytes: 0, disposed: false };
    this.#entries.set(key, entry);
    while (this.#entries.size > this.limits.maxEntries) {
      const [oldestKey, oldest] = this.#entries.entries().next().value as [string, Entry<T>];
      this.#evict(oldestKey, oldest);
    }
    return entry;
  }

  #evict(key: string, entry: Entry<T>): void {
    if (this.#entries.get(key) === entry) this.#entries.delete(key);
    if (!entry.disposed) {
      entry.disposed = true;
      this.dispose(entry.value);
    }
  }
}
