/**
 * Tools we did not write, run on OFD certificates: unzip + openssl (test/support/verify-ofd-openssl.sh), `openssl
 * asn1parse`, and the Bouncy Castle checker test/java/OfdCheck.java (compiled once per run with javac against
 * Debian's /usr/share/java/bcprov.jar). Missing tools fail the test; nothing is skipped.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
export const OFD_OPENSSL_SCRIPT = path.join(here, 'verify-ofd-openssl.sh');
const JAVA_SOURCE = path.resolve(here, '../java/OfdCheck.java');
const BCPROV = '/usr/share/java/bcprov.jar';

export interface ToolRun {
  status: number | null;
  out: string;
}

function run(cmd: string, args: string[]): ToolRun {
  const r = spawnSync(cmd, args, { encoding: 'utf8', timeout: 60_000 });
  if (r.error) throw r.error;
  return { status: r.status, out: `${r.stdout}${r.stderr}` };
}

/** unzip + openssl only: check values, dataHash, SES and seal signatures (dgst -sm3 -sigopt distid), chains. */
export function opensslVerifyOfd(file: string, anchorsPem: string): ToolRun {
  return run('bash', [OFD_OPENSSL_SCRIPT, file, anchorsPem]);
}

/** `openssl asn1parse` of a DER file: the parsed lines (throws when openssl cannot parse it). */
export function asn1parse(file: string): string {
  return execFileSync('openssl', ['asn1parse', '-inform', 'DER', '-in', file, '-i'], { encoding: 'utf8' });
}

let compiled: string | null = null;
/** Compiles the Bouncy Castle checker once per test process (javac, a few seconds). */
function checkerClasses(): string {
  if (compiled) return compiled;
  if (!existsSync(BCPROV)) throw new Error(`${BCPROV} is missing: apt-get install -y libbcprov-java`);
  const dir = path.join(tmpdir(), `miaopi-ofdcheck-${process.pid}`);
  mkdirSync(dir, { recursive: true });
  execFileSync('javac', ['-d', dir, '-cp', BCPROV, JAVA_SOURCE], { stdio: 'pipe', timeout: 120_000 });
  compiled = dir;
  return dir;
}

/** Bouncy Castle: check values, dataHash, SES and seal signatures (SM3withSM2 over re-encoded DER), text + font. */
export function bouncyCastleCheck(file: string, expectedText: string[] = []): ToolRun {
  return run('java', ['-Djava.awt.headless=true', '-cp', `${BCPROV}:${checkerClasses()}`, 'OfdCheck', file, ...expectedText]);
}

/** Text of every TextCode of the pages (what a reader shows), pulled from the content XML of an unpacked OFD. */
export function ofdText(unpackedDir: string): string {
  const pages = path.join(unpackedDir, 'Doc_0', 'Pages');
  let text = '';
  for (const p of readdirSync(pages).sort()) {
    const xml = readFileSync(path.join(pages, p, 'Content.xml'), 'utf8');
    for (const m of xml.matchAll(/<ofd:TextCode[^>]*>([^<]*)<\/ofd:TextCode>/g)) {
      text += `${(m[1] ?? '').replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&quot;/g, '"').replace(/&apos;/g, "'").replace(/&amp;/g, '&')}\n`;
    }
  }
  return text;
}

/** Unpacks with the system `unzip` (an independent ZIP reader). */
export function unzip(file: string, dir: string): void {
  execFileSync('unzip', ['-qq', '-o', file, '-d', dir], { stdio: 'pipe' });
}
