import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { testBackends, TEST_DATABASE_URL } from '../../support/databases.js';

/**
 * Kysely's migrator introspects every schema of the database; a schema dropped by someone else at that moment
 * made store start fail with "schema … does not exist" (seen once in CI with parallel test schemas). The store
 * retries such a run; this test drops schemas with serial columns in a loop while stores start.
 */
describe('store start on PostgreSQL while other schemas come and go', () => {
  const backend = testBackends().find((b) => b.name === 'postgres')!;
  afterAll(() => backend.cleanup());

  it('starts every store although other schemas are dropped during its migrations', async () => {
    const churn = new pg.Client({ connectionString: TEST_DATABASE_URL });
    await churn.connect();
    let stop = false;
    let dropped = 0;
    const churner = (async () => {
      const deadline = Date.now() + 60_000;
      while (!stop && Date.now() < deadline) {
        const name = `churn_${process.pid}_${dropped}`;
        await churn.query(`create schema "${name}"`);
        await churn.query(`create table "${name}".t (id serial primary key, a serial, b serial)`);
        await churn.query(`drop schema "${name}" cascade`);
        dropped++;
        await new Promise((r) => setTimeout(r, 10));
      }
    })();
    let started = 0;
    try {
      for (let i = 0; i < 12; i++) {
        const store = await backend.open();
        started++;
        await store.close();
      }
    } finally {
      stop = true;
      await churner;
      await churn.end();
    }
    console.log(`STORE race: ${started} stores started while ${dropped} other schemas were created and dropped`);
    expect(started).toBe(12);
    expect(dropped).toBeGreaterThan(0);
  }, 120_000);
});
