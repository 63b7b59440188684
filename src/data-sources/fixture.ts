import type { SourceRead } from '../domain/types.js';
import { isJsonObject, sha256Hex } from './hash.js';
import type { DataSource, ReadContext } from './types.js';

/** sha256 of the contract's not-found body `{"found":false}` (DESIGN.md §4), as a conforming server sends it. */
const NOT_FOUND_HASH = sha256Hex(JSON.stringify({ found: false }));

/** Options of {@link createFixtureSource}. */
export interface FixtureSourceOptions {
  /** Source id, e.g. `market-entity`. */
  id: string;
  /** key → record. Keys are matched exactly, as an HTTP server would receive them after URL-decoding. */
  records: ReadonlyMap<string, object> | Readonly<Record<string, object>>;
  /** Clock for `fetchedAt` (tests). Defaults to the system clock. */
  now?: () => Date;
}

/**
 * Fixture backend (embedded default and tests): answers from in-memory demo records with the HTTP backend's
 * semantics — found or not_found, never unknown for a non-empty key. `responseHash` is the sha256 of
 * `JSON.stringify(record)`, byte-for-byte what a conforming HTTP server serving the same record sends (and of
 * `{"found":false}` for not_found, the contract's 404 body), so receipts do not depend on the backend. Each read returns a fresh copy: callers cannot alter the fixture.
 * @throws TypeError at creation when a record is not a JSON object.
 */
export function createFixtureSource(options: FixtureSourceOptions): DataSource {
  const { id } = options;
  const now = options.now ?? (() => new Date());
  const entries: Iterable<[string, object]> =
    options.records instanceof Map ? options.records.entries() : Object.entries(options.records);
  // Serialise once: the text is both the "wire body" (hashed) and the source of fresh copies.
  const bodies = new Map<string, { text: string; hash: string }>();
  for (const [key, record] of entries) {
    if (!isJsonObject(record)) throw new TypeError(`fixture source ${id}: record ${JSON.stringify(key)} is not an object`);
    const text = JSON.stringify(record);
    bodies.set(key, { text, hash: sha256Hex(text) });
  }

  async function read(key: string, _ctx: ReadContext): Promise<SourceRead> {
    const fetchedAt = now().toISOString();
    if (key === '') {
      return { source: id, key, status: 'unknown', record: null, responseHash: '', fetchedAt, error: 'empty key', fault: 'request' };
    }
    const body = bodies.get(key);
    if (body === undefined) {
      // As if the server answered 404 {"found":false}: there was an answer, so the hash is not ''.
      return { source: id, key, status: 'not_found', record: null, responseHash: NOT_FOUND_HASH, fetchedAt };
    }
    const record = JSON.parse(body.text) as Record<string, unknown>;
    return { source: id, key, status: 'found', record, responseHash: body.hash, fetchedAt };
  }

  return { id, backend: 'fixture', read };
}
