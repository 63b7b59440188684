/**
 * Group commit at intake (issue 13): filings that arrive while the previous commit is still running are written
 * together in the next one — one transaction, one fsync, one lock of the day's 申请编号 row, one enqueue into Redis.
 * A filing that finds nothing running is committed at once, so a quiet service answers exactly as before; a busy
 * one answers each 202 after its own batch committed (never before: a 202 still means the row is durable).
 *
 * If a batch fails, each of its filings is tried again on its own, so one filing's fault (or a key conflict) is
 * answered to that filing only.
 */
import type { CreateResult, NewApplication } from '../store/types.js';

export interface IntakeBatcherDeps {
  /** Filings in one transaction, all or nothing; results in the order given. */
  createMany(apps: readonly NewApplication[]): Promise<CreateResult[]>;
  /** After a commit, with the ids it created (the fast-path enqueue); its failure does not fail the filings. */
  afterCommit(ids: string[]): Promise<void>;
  /** Most filings per transaction. */
  maxBatch: number;
  /** Told of each committed transaction and the new filings in it (metrics). */
  onCommit?(filings: number): void;
}

interface Pending {
  app: NewApplication;
  resolve(r: CreateResult): void;
  reject(err: unknown): void;
}

export class IntakeBatcher {
  readonly #deps: IntakeBatcherDeps;
  #queue: Pending[] = [];
  #running = false;
  /** Filings committed, and transactions that committed them (figures: filings per commit). */
  committed = 0;
  commits = 0;

  constructor(deps: IntakeBatcherDeps) {
    if (!Number.isInteger(deps.maxBatch) || deps.maxBatch < 1) throw new RangeError(`maxBatch must be ≥ 1, got ${deps.maxBatch}`);
    this.#deps = deps;
  }

  /** Resolves once the filing is committed (or its key found used) and the fast-path enqueue was tried. */
  submit(app: NewApplication): Promise<CreateResult> {
    return new Promise<CreateResult>((resolve, reject) => {
      this.#queue.push({ app, resolve, reject });
      if (!this.#running) void this.#drain();
    });
  }

  async #drain(): Promise<void> {
    this.#running = true;
    try {
      while (this.#queue.length > 0) {
        const batch = this.#queue.splice(0, this.#deps.maxBatch);
        await this.#commit(batch);
      }
    } finally {
      this.#running = false;
    }
  }

  async #commit(batch: Pending[]): Promise<void> {
    let results: CreateResult[];
    try {
      results = await this.#deps.createMany(batch.map((p) => p.app));
    } catch (err) {
      if (batch.length === 1) {
        batch[0]!.reject(err);
        return;
      }
      // Each on its own: the fault is answered to the filing that has it (or to all, if the database is away).
      await Promise.all(
        batch.map(async (p) => {
          try {
            const r = (await this.#deps.createMany([p.app]))[0]!;
            this.#count([r]);
            await this.#after([r]);
            p.resolve(r);
          } catch (e) {
            p.reject(e);
          }
        }),
      );
      return;
    }
    this.#count(results);
    // The next batch need not wait for Redis: its filings are answered after their own commit and enqueue.
    void this.#after(results).then(() => batch.forEach((p, i) => p.resolve(results[i]!)));
  }

  /** One committed transaction and its results. */
  #count(results: CreateResult[]): void {
    const created = results.filter((r) => r.created).length;
    this.committed += created;
    this.commits += 1;
    this.#deps.onCommit?.(created);
  }

  async #after(results: CreateResult[]): Promise<void> {
    const ids = results.filter((r) => r.created).map((r) => r.applicationId);
    if (ids.length > 0) await this.#deps.afterCommit(ids).catch(() => undefined);
  }
}
