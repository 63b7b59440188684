/**
 * Issue 17 item 6: webhook signing secrets are encrypted at rest (AES-256-GCM, WEBHOOK_SECRET_KEY; in development a
 * key generated into DATA_DIR, 0600). The database row and file never hold the clear secret, deliveries are still
 * signed with it, a row written in clear by an earlier version is read as it is and sealed when the store opens,
 * and a wrong key fails loudly instead of signing with garbage.
 */
import BetterSqlite3 from 'better-sqlite3';
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createStore } from '../../../src/store/index.js';
import { parseSecretKey } from '../../../src/store/secret-box.js';
import { SIGNATURE_HEADER, newWebhookSecret, verifySignature } from '../../../src/webhooks/signature.js';
import { queryRows } from '../../support/db-query.js';
import { HAPPY_USCC, grainFiling, startStack, submit, waitForDecision, type Stack } from '../../support/stack.js';
import { startReceiver, type Receiver } from './receiver.js';

let stack: Stack;
let receiver: Receiver;

beforeAll(async () => {
  stack = await startStack({ backend: 'sqlite', env: { WEBHOOK_ALLOW_LOOPBACK: 'true', WEBHOOK_RETRY_BASE_MS: '200' } });
  receiver = await startReceiver();
}, 120_000);
afterAll(async () => {
  await receiver?.close();
  await stack?.close();
});

const dbBytes = () =>
  ['', '-wal'].map((s) => `${stack.db.options.sqlitePath}${s}`).filter(existsSync).map((f) => readFileSync(f)).reduce((a, b) => Buffer.concat([a, b]), Buffer.alloc(0));

describe('webhook secrets at rest', () => {
  let hookId = '';
  let secret = '';
  const legacyId = 'legacy-clear-hook';
  const legacySecret = newWebhookSecret();

  it('the development key is generated into DATA_DIR with mode 0600', () => {
    const file = path.join(stack.dataDir, 'dev-webhook-secret-key');
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(parseSecretKey(readFileSync(file, 'utf8').trim())).not.toBeNull();
  });

  it('registering returns the secret once; the row holds only its AES-GCM sealed form', async () => {
    const consumer = await stack.token('DOWNSTREAM-SYS-9', 'consumer', { scope: 'certificates:read webhooks:write' });
    const res = await stack.app.inject({ method: 'POST', url: '/v1/webhooks', headers: { authorization: `Bearer ${consumer}` }, payload: { url: receiver.url, events: ['certificate.issued'] } });
    expect(res.statusCode).toBe(201);
    hookId = res.json().id;
    secret = res.json().secret;
    expect(secret).toMatch(/^whsec_/);
    const [row] = await queryRows<{ secret: string }>(stack, 'select secret from webhooks where id = ?', [hookId]);
    expect(row!.secret.startsWith('aesgcm1:')).toBe(true);
    expect(row!.secret).not.toContain(secret);
    expect(row!.secret).not.toContain(secret.slice('whsec_'.length));
    expect(dbBytes().includes(Buffer.from(secret.slice('whsec_'.length)))).toBe(false);
  });

  it('a row written in clear by an earlier version is read as it is; deliveries to both are signed with the clear secrets', async () => {
    const db = new BetterSqlite3(stack.db.options.sqlitePath);
    try {
      db.pragma('busy_timeout = 5000');
      db.prepare("insert into webhooks (id, owner, url, events, secret, status, created_at) values (?, 'DOWNSTREAM-SYS-8', ?, '[\"certificate.issued\"]', ?, 'active', ?)").run(
        legacyId,
        `${receiver.url}?legacy`,
        legacySecret,
        new Date().toISOString(),
      );
    } finally {
      db.close();
    }
    const token = await stack.token(HAPPY_USCC);
    const res = await submit(stack, token, grainFiling({ form: { purchaseRegionCode: '210103' } }));
    expect(res.statusCode).toBe(202);
    expect((await waitForDecision(stack, res.json().id, token)).status).toBe('approved');
    const hits = await receiver.waitFor(2, 10_000);
    const now = Math.floor(Date.now() / 1000);
    const sealedHit = hits.find((h) => h.path === '/hook')!;
    const legacyHit = hits.find((h) => h.path === '/hook?legacy')!;
    expect(verifySignature(secret, String(sealedHit.headers[SIGNATURE_HEADER]), sealedHit.body, now)).toEqual({ ok: true });
    expect(verifySignature(legacySecret, String(legacyHit.headers[SIGNATURE_HEADER]), legacyHit.body, now)).toEqual({ ok: true });
    // Signed with the secret, not with its stored form.
    const [row] = await queryRows<{ secret: string }>(stack, 'select secret from webhooks where id = ?', [hookId]);
    expect(verifySignature(row!.secret, String(sealedHit.headers[SIGNATURE_HEADER]), sealedHit.body, now)).toEqual({ ok: false, reason: 'mismatch' });
  }, 60_000);

  it('opening the store with the key seals the clear row; a wrong key cannot open it', async () => {
    const key = parseSecretKey(readFileSync(path.join(stack.dataDir, 'dev-webhook-secret-key'), 'utf8').trim())!;
    const store = await createStore({ databaseUrl: null, sqlitePath: stack.db.options.sqlitePath, webhookSecretKey: key });
    try {
      const [row] = await queryRows<{ secret: string }>(stack, 'select secret from webhooks where id = ?', [legacyId]);
      expect(row!.secret.startsWith('aesgcm1:')).toBe(true);
      expect(row!.secret).not.toContain(legacySecret);
      expect((await store.webhooks.get(legacyId))!.secret).toBe(legacySecret);
      expect((await store.webhooks.get(hookId))!.secret).toBe(secret);
      expect(await store.webhooks.sealClearSecrets()).toBe(0);
    } finally {
      await store.close();
    }
    const wrong = await createStore({ databaseUrl: null, sqlitePath: stack.db.options.sqlitePath, webhookSecretKey: randomBytes(32) });
    try {
      await expect(wrong.webhooks.get(hookId)).rejects.toThrow();
    } finally {
      await wrong.close();
    }
  });
});
