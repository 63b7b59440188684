/**
 * EC P-256 key pairs made ahead of need, off the filing's path: Node's async `generateKeyPair` runs in libuv's
 * thread pool, so neither the event loop nor a filing waits for a key. A filing takes a ready key; only when the
 * pool is empty (a burst larger than the pool, right after start) is one made on the spot, and that is counted.
 */
import { generateKeyPair, generateKeyPairSync, type KeyObject } from 'node:crypto';

export interface PooledKey {
  privateKey: KeyObject;
  publicKey: KeyObject;
}

export interface KeyPoolStats {
  /** Keys made in the background. */
  generatedAhead: number;
  /** Keys handed out from the pool. */
  takenFromPool: number;
  /** Keys made synchronously because the pool was empty (on a filing's path). */
  generatedOnPath: number;
  ready: number;
}

export class KeyPool {
  readonly #keys: PooledKey[] = [];
  readonly #size: number;
  #filling = 0;
  #closed = false;
  readonly #stats = { generatedAhead: 0, takenFromPool: 0, generatedOnPath: 0 };

  /** `size` keys are kept ready; refilling starts at once unless `prefill` is false (then at the first take or ready). */
  constructor(size = 64, prefill = true) {
    this.#size = Math.max(1, size);
    if (prefill) this.#refill();
  }

  /** A fresh key pair; never blocks on the thread pool. */
  take(): PooledKey {
    const key = this.#keys.pop();
    this.#refill();
    if (key) {
      this.#stats.takenFromPool++;
      return key;
    }
    this.#stats.generatedOnPath++;
    return generateKeyPairSync('ec', { namedCurve: 'P-256' });
  }

  stats(): KeyPoolStats {
    return { ...this.#stats, ready: this.#keys.length };
  }

  /** Resolves once the pool holds `count` keys (tests, benchmarks), or after `timeoutMs`. */
  async ready(count = this.#size, timeoutMs = 10_000): Promise<boolean> {
    this.#refill();
    const until = Date.now() + timeoutMs;
    while (this.#keys.length < Math.min(count, this.#size)) {
      if (Date.now() > until) return false;
      await new Promise((r) => setTimeout(r, 5));
    }
    return true;
  }

  close(): void {
    this.#closed = true;
  }

  #refill(): void {
    // A few generations in flight at a time: the thread pool (4 threads) is shared with fs and DNS.
    while (!this.#closed && this.#keys.length + this.#filling < this.#size && this.#filling < 2) {
      this.#filling++;
      generateKeyPair('ec', { namedCurve: 'P-256' }, (err, publicKey, privateKey) => {
        this.#filling--;
        if (!err && !this.#closed) {
          this.#keys.push({ publicKey, privateKey });
          this.#stats.generatedAhead++;
        }
        if (!err) this.#refill();
      });
    }
  }
}
