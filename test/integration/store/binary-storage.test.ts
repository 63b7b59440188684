/**
 * Migration 0056: on PostgreSQL the columns that hold files compressed already (PDFs, OFD, uploads) are stored
 * EXTERNAL — out of line, no pglz attempt — and a stored PDF still reads back byte for byte and uncompressed on
 * disk. The columns are looked up in the catalogue of the store's own schema, so a column renamed or forgotten in
 * the list fails here.
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { BINARY_FILE_COLUMNS } from '../../../src/store/migrations/0056-binary-storage.js';
import { TEST_DATABASE_URL, testBackends } from '../../support/databases.js';

const backends = testBackends();
const postgres = backends.find((b) => b.name === 'postgres')!;
afterAll(async () => {
  await Promise.all(backends.map((b) => b.cleanup()));
});

describe('binary file columns on PostgreSQL', () => {
  it('are stored EXTERNAL, and a PDF-sized value is kept as it is', { timeout: 60_000 }, async () => {
    const db = postgres.database();
    const store = await db.open();
    const schema = new URL(db.options.databaseUrl!).searchParams.get('schema')!;
    const client = new pg.Client({ connectionString: TEST_DATABASE_URL });
    await client.connect();
    try {
      const { rows } = await client.query<{ table: string; column: string; storage: string; type: string }>(
        `select c.relname as table, a.attname as column, a.attstorage as storage, format_type(a.atttypid, a.atttypmod) as type
           from pg_attribute a join pg_class c on c.oid = a.attrelid join pg_namespace n on n.oid = c.relnamespace
          where n.nspname = $1 and a.attnum > 0 and not a.attisdropped and format_type(a.atttypid, a.atttypmod) = 'bytea'`,
        [schema],
      );
      const storage = new Map(rows.map((r) => [`${r.table}.${r.column}`, r.storage]));
      for (const [table, column] of BINARY_FILE_COLUMNS) expect(storage.get(`${table}.${column}`), `${table}.${column}`).toBe('e');
      // Every bytea column large enough to be toasted is in the list (small key material stays as it was).
      const others = rows.filter((r) => r.storage !== 'e').map((r) => `${r.table}.${r.column}`).sort();
      expect(others).toEqual(['dev_eseals.certificate', 'dev_eseals.private_key']);

      // A 60 KB value that pglz would shrink to a fraction: read back unchanged, and stored as it is — the column no
      // longer tries to compress (with the default storage it would take ~1 KB here).
      const now = '2026-12-07T03:00:00.000Z';
      const id = `app-${randomBytes(4).toString('hex')}`;
      await client.query(`set search_path to "${schema}"`);
      await client.query(
        `insert into applications (id, matter, matter_version, applicant, status, answers, form, consent, body_hash, attempts, created_at, updated_at)
         values ($1, 'grain-purchase-filing', '1', '91210100MA0XXXXXX0', 'queued', '{}', '{}', '{}', 'h', 0, $2, $2)`,
        [id, now],
      );
      const pdf = new Uint8Array(Buffer.from('%PDF-1.7 BT /F1 12 Tf (0123456789) Tj ET\n'.repeat(1500).slice(0, 60_000), 'latin1'));
      await store.documents.put({ applicationId: id, kind: 'form', sha256: 'x', bytes: pdf, createdAt: now });
      const back = await store.documents.get(id, 'form');
      expect(Buffer.from(back!.bytes).equals(Buffer.from(pdf))).toBe(true);
      const size = await client.query<{ stored: number; raw: number }>(
        `select pg_column_size(bytes) as stored, octet_length(bytes) as raw from documents where application_id = $1`,
        [id],
      );
      expect(Number(size.rows[0]!.stored)).toBeGreaterThanOrEqual(60_000);
      expect(Number(size.rows[0]!.raw)).toBe(60_000);
    } finally {
      await client.end();
      await db.drop();
    }
  });
});
