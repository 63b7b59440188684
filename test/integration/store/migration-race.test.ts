/**
 * Kysely's migrator introspects every schema of the database (`pg_get_serial_sequence` per column); when another
 * schema's table or column goes away under that query, PostgreSQL answers about an object that is not ours, and the
 * run is retried (src/store/index.ts). CI met 42703 (`column "body_hash" of relation "idempotency_keys" does not
 * exist`) while a parallel test dropped its schema, which was not retried. The errors here are PostgreSQL's own.
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { migrationRaced } from '../../../src/store/index.js';
import { TEST_DATABASE_URL } from '../../support/databases.js';

const schema = `race_${randomBytes(4).toString('hex')}`;
let client: pg.Client;

async function pgError(text: string): Promise<Error> {
  try {
    await client.query(text);
  } catch (err) {
    return err as Error;
  }
  throw new Error(`expected PostgreSQL to refuse: ${text}`);
}

beforeAll(async () => {
  client = new pg.Client({ connectionString: TEST_DATABASE_URL });
  await client.connect();
  await client.query(`create schema "${schema}"`);
  await client.query(`create table "${schema}".t (id bigserial primary key, body_hash text)`);
});

afterAll(async () => {
  await client?.query(`drop schema if exists "${schema}" cascade`);
  await client?.end();
});

describe('a migration run that met another schema going away', () => {
  it('is retried for a schema, table or column that vanished under the introspection query', async () => {
    const gone = [
      await pgError(`select pg_get_serial_sequence('"${schema}_gone".t', 'id')`),
      await pgError(`select pg_get_serial_sequence('"${schema}".gone', 'id')`),
      await pgError(`select pg_get_serial_sequence('"${schema}".t', 'gone_column')`),
    ];
    expect(gone.map((e) => (e as { code?: string }).code)).toEqual(['3F000', '42P01', '42703']);
    for (const error of gone) expect(migrationRaced({ error, results: [] }, 'postgres'), error.message).toBe(true);
  });

  it('is not retried when a migration of ours failed, or for any other error', async () => {
    const column = await pgError(`select pg_get_serial_sequence('"${schema}".t', 'gone_column')`);
    expect(migrationRaced({ error: column, results: [{ migrationName: '0001-initial', direction: 'Up', status: 'Error' }] }, 'postgres')).toBe(false);
    const syntax = await pgError('selec 1');
    expect(migrationRaced({ error: syntax, results: [] }, 'postgres')).toBe(false);
    expect(migrationRaced({ error: new Error('no code'), results: [] }, 'postgres')).toBe(false);
    expect(migrationRaced({ error: undefined, results: [] }, 'postgres')).toBe(false);
    expect(migrationRaced({ error: Object.assign(new Error('busy'), { code: 'SQLITE_BUSY' }), results: [] }, 'sqlite')).toBe(true);
    expect(migrationRaced({ error: column, results: [] }, 'sqlite')).toBe(false);
  });
});
