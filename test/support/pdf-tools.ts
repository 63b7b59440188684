/**
 * Shell-outs to the independent PDF tools the tests judge by (poppler, zbar, scripts/verify-certificate.sh).
 * Every helper fails loudly when its tool is missing: a skipped check would look like a pass.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** Repository root (the folder holding package.json), found from this file. */
export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

/** The independent judge of "signed" (pdfsig, openssl cms, qpdf, pdftotext), shipped in scripts/. */
export const verifyScript = path.resolve(repoRoot, 'scripts/verify-certificate.sh');

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs a program without a shell; resolves with its exit code and output (non-zero is not an error). */
export function run(cmd: string, args: string[], input?: { timeoutMs?: number; cwd?: string; env?: Record<string, string> }): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    execFile(
      cmd,
      args,
      { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024, timeout: input?.timeoutMs ?? 60_000, cwd: input?.cwd, ...(input?.env ? { env: { ...process.env, ...input.env } } : {}) },
      (err, stdout, stderr) => {
        if (err && (err as NodeJS.ErrnoException).code === 'ENOENT') {
          reject(new Error(`${cmd} is not installed (needed by this test)`));
          return;
        }
        const code = err ? (typeof err.code === 'number' ? err.code : 1) : 0;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

/** A fresh temp directory; call the returned cleanup when done. */
export function tempDir(prefix = 'docs-'): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(path.join(tmpdir(), prefix));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** Writes bytes to `dir/name` and returns the path. */
export function writeTemp(dir: string, name: string, bytes: Uint8Array | string): string {
  const p = path.join(dir, name);
  writeFileSync(p, bytes);
  return p;
}

/** Runs verify-certificate.sh FILE ROOTS [text…]; throws when the script itself is missing. */
export async function verifyCertificate(pdfPath: string, rootsPemPath: string, texts: string[] = []): Promise<RunResult> {
  if (!existsSync(verifyScript)) throw new Error(`verify script not found at ${verifyScript}`);
  return run('bash', [verifyScript, pdfPath, rootsPemPath, ...texts], { timeoutMs: 120_000 });
}

/**
 * Rasterises every page with `pdftoppm -r <dpi> -png` into a folder next to the PDF (so the caller's temp-dir
 * cleanup removes it); returns the PNG paths and poppler's stderr.
 */
export async function pdfToPng(pdfPath: string, dpi = 150): Promise<{ pngs: string[]; stderr: string; code: number }> {
  const outDir = mkdtempSync(path.join(path.dirname(pdfPath), 'ppm-'));
  const r = await run('pdftoppm', ['-r', String(dpi), '-png', pdfPath, path.join(outDir, 'page')]);
  const pngs = readdirSync(outDir)
    .filter((f) => f.endsWith('.png'))
    .sort()
    .map((f) => path.join(outDir, f));
  return { pngs, stderr: r.stderr, code: r.code };
}

/** Decodes barcodes in an image with zbarimg; returns the decoded payloads (symbology prefix removed). */
export async function zbarDecode(pngPath: string): Promise<string[]> {
  const r = await run('zbarimg', ['--quiet', '--raw', pngPath]);
  if (r.code !== 0 && r.code !== 4) throw new Error(`zbarimg failed (${r.code}): ${r.stderr}`);
  return r.stdout.split('\n').filter((l) => l !== '');
}

/** Text layer as pdftotext (UTF-8) extracts it. */
export async function pdfText(pdfPath: string): Promise<string> {
  const r = await run('pdftotext', ['-enc', 'UTF-8', pdfPath, '-']);
  if (r.code !== 0) throw new Error(`pdftotext failed (${r.code}): ${r.stderr}`);
  return r.stdout;
}

/** Extracts the DER CMS from the (single) signature's /Contents, trimmed to its ASN.1 length. */
export function extractCms(pdf: Uint8Array): Buffer {
  const s = Buffer.from(pdf).toString('latin1');
  const m = /\/ByteRange *\[ *(\d+) +(\d+) +(\d+) +(\d+) *\]/.exec(s);
  if (!m) throw new Error('no /ByteRange in the PDF');
  const start = Number(m[2]);
  const end = Number(m[3]);
  const der = Buffer.from(s.slice(start + 1, end - 1), 'hex');
  // DER length of the outer SEQUENCE.
  const first = der[1] as number;
  const len = first < 0x80 ? first + 2 : 2 + (first & 0x7f) + der.readUIntBE(2, first & 0x7f);
  return der.subarray(0, len);
}

/** `openssl cms -cmsout -print` of a DER CMS. */
export async function opensslCmsPrint(dir: string, cmsDer: Uint8Array): Promise<string> {
  const p = writeTemp(dir, 'sig.p7s', cmsDer);
  const r = await run('openssl', ['cms', '-cmsout', '-print', '-inform', 'DER', '-in', p]);
  if (r.code !== 0) throw new Error(`openssl cms -print failed: ${r.stderr}`);
  return r.stdout;
}
