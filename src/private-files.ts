/**
 * Personal data at rest (issue 17, item 6): the service's own folders are 0700 and its files 0600, so another local
 * account cannot read the SQLite file (names, ID numbers, forms, uploads), its WAL, the Redis AOF or the keys. Only
 * folders the service owns are tightened — never a parent such as /tmp — and an existing wider mode from an earlier
 * version is narrowed on the next start.
 */
import { chmodSync, closeSync, mkdirSync, openSync } from 'node:fs';

export const PRIVATE_DIR_MODE = 0o700;
export const PRIVATE_FILE_MODE = 0o600;

/**
 * Creates `dir` (and missing parents, 0700) and makes `dir` itself 0700. A folder another account owns (a volume
 * mounted by the operator) cannot be narrowed by us and is left as its owner set it.
 */
export function ensurePrivateDir(dir: string): void {
  mkdirSync(dir, { recursive: true, mode: PRIVATE_DIR_MODE });
  try {
    chmodSync(dir, PRIVATE_DIR_MODE);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EPERM') throw err;
  }
}

/**
 * Creates `file` empty with 0600 when missing, else narrows it to 0600; a file another program then opens keeps
 * the mode (SQLite gives its -wal and -shm the database file's mode).
 */
export function ensurePrivateFile(file: string): void {
  closeSync(openSync(file, 'a', PRIVATE_FILE_MODE));
  chmodSync(file, PRIVATE_FILE_MODE);
}

/** Narrows `file` to 0600 if it exists. */
export function narrowIfPresent(file: string): void {
  try {
    chmodSync(file, PRIVATE_FILE_MODE);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
}
