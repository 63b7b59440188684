/**
 * Secrets encrypted at rest (issue 17 item 6): AES-256-GCM with a 96-bit random nonce per value, the row's id as
 * associated data (a sealed value copied into another row does not open there). Stored form:
 * `aesgcm1:<base64url(nonce ‖ tag ‖ ciphertext)>`. A value without that prefix is a secret written in clear by an
 * earlier version: it is read as it is and sealed by `sealClearSecrets` when the store opens.
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';

const PREFIX = 'aesgcm1:';
const NONCE = 12;
const TAG = 16;

export interface SecretBox {
  seal(plain: string, rowId: string): string;
  open(stored: string, rowId: string): string;
  isSealed(stored: string): boolean;
}

/** `key`: 32 bytes. */
export function createSecretBox(key: Buffer): SecretBox {
  if (key.length !== 32) throw new Error(`secret box key must be 32 bytes, got ${key.length}`);
  return {
    seal(plain, rowId) {
      const nonce = randomBytes(NONCE);
      const cipher = createCipheriv('aes-256-gcm', key, nonce);
      cipher.setAAD(Buffer.from(rowId, 'utf8'));
      const ct = Buffer.concat([cipher.update(plain, 'utf8'), cipher.final()]);
      return PREFIX + Buffer.concat([nonce, cipher.getAuthTag(), ct]).toString('base64url');
    },
    open(stored, rowId) {
      if (!stored.startsWith(PREFIX)) return stored;
      const raw = Buffer.from(stored.slice(PREFIX.length), 'base64url');
      if (raw.length < NONCE + TAG) throw new Error('sealed secret is truncated');
      const decipher = createDecipheriv('aes-256-gcm', key, raw.subarray(0, NONCE));
      decipher.setAAD(Buffer.from(rowId, 'utf8'));
      decipher.setAuthTag(raw.subarray(NONCE, NONCE + TAG));
      // A wrong key or an edited value fails here (GCM tag): never a silently wrong secret.
      return Buffer.concat([decipher.update(raw.subarray(NONCE + TAG)), decipher.final()]).toString('utf8');
    },
    isSealed: (stored) => stored.startsWith(PREFIX),
  };
}

/** WEBHOOK_SECRET_KEY text (base64/base64url of 32 bytes, or 64 hex digits) → the key; null when malformed. */
export function parseSecretKey(text: string): Buffer | null {
  if (/^[0-9a-fA-F]{64}$/.test(text)) return Buffer.from(text, 'hex');
  if (!/^[A-Za-z0-9+/_-]{43}=?$/.test(text)) return null;
  const key = Buffer.from(text.replace(/-/g, '+').replace(/_/g, '/'), 'base64');
  return key.length === 32 ? key : null;
}
