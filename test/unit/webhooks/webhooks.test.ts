import { describe, expect, it } from 'vitest';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ConfigError, loadConfig } from '../../../src/config.js';
import { AppError } from '../../../src/errors.js';
import { checkWebhookUrl } from '../../../src/http/routes/webhooks.js';
import { addressAllowed, classifyAddress } from '../../../src/webhooks/address-guard.js';
import { signatureHeader, verifySignature } from '../../../src/webhooks/signature.js';
import { retryDelayMs } from '../../../src/webhooks/webhook-queue.js';

describe('webhook signatures', () => {
  it('signs timestamp.body with HMAC-SHA256 in a t=…,v1=… header a receiver can check', () => {
    const header = signatureHeader('whsec_test', 1_700_000_000, '{"a":1}');
    expect(header).toMatch(/^t=1700000000,v1=[0-9a-f]{64}$/);
    expect(verifySignature('whsec_test', header, '{"a":1}', 1_700_000_100)).toEqual({ ok: true });
    expect(verifySignature('whsec_test', header, '{"a":2}', 1_700_000_100)).toEqual({ ok: false, reason: 'mismatch' });
    expect(verifySignature('whsec_test', header, '{"a":1}', 1_700_000_301)).toEqual({ ok: false, reason: 'stale' });
    expect(verifySignature('whsec_test', 'v1=abc', '{"a":1}', 1_700_000_000)).toEqual({ ok: false, reason: 'malformed' });
  });
});

describe('webhook addresses', () => {
  it.each([
    ['8.8.8.8', 'public'], ['2400:3200::1', 'public'], ['127.0.0.1', 'loopback'], ['127.8.9.10', 'loopback'], ['::1', 'loopback'],
    ['::ffff:127.0.0.1', 'loopback'], ['169.254.169.254', 'forbidden'], ['::ffff:169.254.169.254', 'forbidden'], ['10.1.1.1', 'forbidden'],
    ['172.20.0.1', 'forbidden'], ['192.168.0.1', 'forbidden'], ['100.100.100.200', 'forbidden'], ['0.0.0.0', 'forbidden'], ['fe80::1', 'forbidden'],
    ['fd00:ec2::254', 'forbidden'], ['224.0.0.1', 'forbidden'], ['64:ff9b::a9fe:a9fe', 'forbidden'], ['not-an-ip', 'forbidden'],
    // IPv4 carried inside IPv6 (issue 17, item 7): compatible, translated, mapped in every spelling.
    ['::127.0.0.1', 'forbidden'], ['::7f00:1', 'forbidden'], ['::ffff:0:127.0.0.1', 'forbidden'], ['::ffff:0:7f00:1', 'forbidden'],
    ['::ffff:7f00:1', 'loopback'], ['0:0:0:0:0:ffff:7f00:1', 'loopback'], ['::169.254.169.254', 'forbidden'], ['::ffff:0:169.254.169.254', 'forbidden'],
    ['::ffff:a9fe:a9fe', 'forbidden'], ['::10.0.0.1', 'forbidden'], ['::ffff:0:10.0.0.1', 'forbidden'], ['::ffff:1:7f00:1', 'forbidden'],
    ['::8.8.8.8', 'forbidden'], ['::ffff:8.8.8.8', 'public'], ['::', 'forbidden'],
  ])('%s is %s', (ip, cls) => {
    expect(classifyAddress(ip)).toBe(cls);
  });

  it('allows loopback only when configured, and metadata never', () => {
    expect(addressAllowed('127.0.0.1', false)).toBe(false);
    expect(addressAllowed('127.0.0.1', true)).toBe(true);
    expect(addressAllowed('169.254.169.254', true)).toBe(false);
  });
});

describe('webhook URLs at registration', () => {
  const refusal = (url: string, allowLoopback: boolean) =>
    checkWebhookUrl(url, allowLoopback).then(
      () => 'accepted',
      (e: unknown) => (e instanceof AppError ? e.code : String(e)),
    );
  it.each(['[::127.0.0.1]', '[::ffff:0:127.0.0.1]', '[::ffff:7f00:1]', '[::ffff:127.0.0.1]', '[0:0:0:0:0:ffff:127.0.0.1]', '[::ffff:0:7f00:1]', '[::169.254.169.254]', '[::ffff:0:a9fe:a9fe]', '[::a9fe:a9fe]', '[::192.168.1.1]', '[64:ff9b::7f00:1]'])(
    'refuses https://%s/hook (400 WEBHOOK_URL_FORBIDDEN)',
    async (host) => {
      expect(await refusal(`https://${host}/hook`, false)).toBe('WEBHOOK_URL_FORBIDDEN');
    },
  );
  it('refuses the IPv4-compatible and -translated loopback even where development allows loopback', async () => {
    expect(await refusal('http://[::127.0.0.1]:8080/hook', true)).toBe('WEBHOOK_URL_FORBIDDEN');
    expect(await refusal('http://[::ffff:0:127.0.0.1]:8080/hook', true)).toBe('WEBHOOK_URL_FORBIDDEN');
    expect(await refusal('http://127.0.0.1:8080/hook', true)).toBe('accepted');
  });
  it('accepts a public IPv6 literal', async () => {
    expect(await refusal('https://[2400:3200::1]/hook', false)).toBe('accepted');
  });
});

describe('webhook retries', () => {
  it('back off four times longer each retry, capped at six hours', () => {
    expect([1, 2, 3, 4].map((n) => retryDelayMs(n, 1000))).toEqual([1000, 4000, 16000, 64000]);
    expect(retryDelayMs(30, 1000)).toBe(6 * 3600_000);
  });
});

describe('configuration of issue 8', () => {
  const dir = () => mkdtempSync(path.join(tmpdir(), 'cfg8-'));
  it('enables the dev sign-in with the generated dev secret only, and refuses it with a JWKS', () => {
    expect(loadConfig({ DATA_DIR: dir() }).auth.devSignIn).toBe(true);
    expect(loadConfig({ DATA_DIR: dir(), AUTH_JWT_SECRET: 'x'.repeat(32) }).auth.devSignIn).toBe(false);
    expect(loadConfig({ DATA_DIR: dir(), AUTH_JWT_SECRET: 'x'.repeat(32), AUTH_DEV_SIGN_IN: 'true' }).auth.devSignIn).toBe(true);
    expect(loadConfig({ DATA_DIR: dir(), AUTH_JWKS_URL: 'https://idp.example/jwks' }).auth.devSignIn).toBe(false);
    expect(() => loadConfig({ DATA_DIR: dir(), AUTH_JWKS_URL: 'https://idp.example/jwks', AUTH_DEV_SIGN_IN: 'true' })).toThrow(ConfigError);
    expect(loadConfig({ DATA_DIR: dir(), AUTH_DEV_SIGN_IN: 'false' }).auth.devSignIn).toBe(false);
  });

  it('keeps webhooks off loopback unless WEBHOOK_ALLOW_LOOPBACK is true', () => {
    expect(loadConfig({ DATA_DIR: dir() }).webhooks).toEqual({ allowLoopback: false, retryBaseMs: 1000, attempts: 10, timeoutMs: 10000, secretKey: expect.stringMatching(/^[A-Za-z0-9+/]{43}=$/) });
    expect(loadConfig({ DATA_DIR: dir(), WEBHOOK_ALLOW_LOOPBACK: 'true' }).webhooks.allowLoopback).toBe(true);
    expect(() => loadConfig({ DATA_DIR: dir(), WEBHOOK_ALLOW_LOOPBACK: 'maybe' })).toThrow(/WEBHOOK_ALLOW_LOOPBACK/);
  });
});
