/**
 * A failure inside the intake transaction leaves nothing behind (DESIGN.md §2, issue 17): a trigger planted in the
 * database fails the outbox insert, which runs after the idempotency key, the application number and the
 * application row were written in the same transaction. The filing is answered with a stable code and no
 * internals; no application, outbox, idempotency or consent row survives; and once the fault is gone the same
 * Idempotency-Key files normally (a half-written key would have answered with a filing that does not exist).
 * On PostgreSQL the fault is also raised as "the server is shutting down" (57P01): 503 with Retry-After.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { countRows } from '../../support/db-counts.js';
import { executeSql } from '../../support/db-query.js';
import { HAPPY_USCC, grainFiling, startStack, submit, type Stack } from '../../support/stack.js';

const DROP = { sqlite: 'drop trigger if exists outbox_fault;', postgres: 'drop trigger if exists outbox_fault on outbox; drop function if exists outbox_fault();' };

/** A trigger that fails every outbox insert; on PostgreSQL with the given SQLSTATE. */
function plantFault(stack: Stack, sqlstate = 'P0001'): Promise<void> {
  return executeSql(
    stack,
    "create trigger outbox_fault before insert on outbox begin select raise(abort, 'outbox insert failed (planted by the test)'); end;",
    `create function outbox_fault() returns trigger language plpgsql as $$ begin raise exception 'outbox insert failed (planted by the test)' using errcode = '${sqlstate}'; end $$;
     create trigger outbox_fault before insert on outbox for each row execute function outbox_fault();`,
  );
}

describe.each(['sqlite', 'postgres'] as const)('a failure inside the intake transaction (%s)', (backend) => {
  let stack: Stack;
  let token: string;
  let region = 40;
  const filing = () => grainFiling({ form: { purchaseRegionCode: `2101${String(region++).padStart(2, '0')}` } });

  const stored = async () => ({
    applications: await countRows(stack, 'applications'),
    outbox: await countRows(stack, 'outbox'),
    idempotencyKeys: await countRows(stack, 'idempotency_keys'),
  });

  beforeAll(async () => {
    stack = await startStack({ backend, worker: false, httpSources: false });
    token = await stack.token(HAPPY_USCC);
  });

  afterAll(async () => {
    await stack?.close();
  });

  it('answers 500 INTERNAL without internals, stores nothing, and the same key files once the fault is gone', async () => {
    const before = await stored();
    await plantFault(stack);
    const key = `intake-tx-${backend}-${Date.now().toString(36)}`;
    const body = filing();
    const res = await submit(stack, token, body, { 'idempotency-key': key });
    expect(res.statusCode, res.body).toBe(500);
    const err = res.json<{ code: string; message: string; requestId: string }>();
    expect(err.code).toBe('INTERNAL');
    expect(err.message).not.toMatch(/outbox|trigger|planted|sql/i);
    expect(typeof err.requestId).toBe('string');
    expect(await stored()).toEqual(before);
    expect(await countRows(stack, 'idempotency_keys', { key })).toBe(0);

    await executeSql(stack, DROP.sqlite, DROP.postgres);
    const again = await submit(stack, token, body, { 'idempotency-key': key });
    expect(again.statusCode, again.body).toBe(202);
    const id = again.json<{ id: string }>().id;
    expect(await stored()).toEqual({ applications: before.applications + 1, outbox: before.outbox + 1, idempotencyKeys: before.idempotencyKeys + 1 });
    expect(await countRows(stack, 'outbox', { application_id: id })).toBe(1);
  });

  // 57P01 (admin shutdown) is PostgreSQL's: this case exists only for that backend (registered, not skipped, elsewhere).
  if (backend === 'postgres') it('answers 503 SERVICE_UNAVAILABLE with Retry-After when the database fails as unavailable mid-transaction, storing nothing', async () => {
    const before = await stored();
    await plantFault(stack, '57P01');
    try {
      const res = await submit(stack, token, filing(), { 'idempotency-key': `intake-tx-503-${Date.now().toString(36)}` });
      expect(res.statusCode, res.body).toBe(503);
      expect(res.json<{ code: string }>().code).toBe('SERVICE_UNAVAILABLE');
      expect(res.headers['retry-after']).toBeDefined();
      expect(await stored()).toEqual(before);
    } finally {
      await executeSql(stack, DROP.sqlite, DROP.postgres);
    }
  });
});
