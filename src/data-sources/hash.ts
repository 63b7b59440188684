import { createHash } from 'node:crypto';

/**
 * sha256 hex of response bytes (or of a string's UTF-8 bytes). Both backends hash what a server sends on the
 * wire, so a fixture read and an HTTP read of the same record carry the same `responseHash` in receipts.
 */
export function sha256Hex(data: Uint8Array | string): string {
  return createHash('sha256').update(data).digest('hex');
}

/** True for a JSON object record (not null, not an array): the only body shape the contract accepts. */
export function isJsonObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
