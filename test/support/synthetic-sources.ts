/**
 * Load from distinct enterprises against real processes: the data-source stand-in (`src/cli/standin.ts`) serving
 * demo data plus N synthetic enterprises over HTTP, and filings that each come from a new enterprise (a new
 * 统一社会信用代码 with valid check characters and a new responsible person; src/standins/synthetic.ts).
 */
import { spawn } from 'node:child_process';
import { tmpdir } from 'node:os';
import { signDevToken } from '../../src/http/dev-token.js';
import { envNameFor } from '../../src/data-sources/registry.js';
import { grainFilingOf, syntheticEnterprise, SHENYANG_COUNTIES } from '../../src/standins/synthetic.js';
import { REPO_ROOT, SECRET } from './stack.js';

export interface SyntheticSources {
  /** `SOURCE_…_URL` variables that point the service at the stand-in. */
  env: Record<string, string>;
  stop(): Promise<void>;
}

/** Starts the stand-in with `count` synthetic enterprises of `seed`; resolves once it prints its URLs. */
export async function startSyntheticSources(count: number, seed: number, timeoutMs = 60_000): Promise<SyntheticSources> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/standin.ts', 'data-sources', '--synthetic', String(count), '--seed', String(seed), '--rules', 'rules'], {
    cwd: REPO_ROOT,
    env: { PATH: process.env['PATH'] ?? '/usr/bin:/bin', HOME: process.env['HOME'] ?? tmpdir() },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  const urls = await new Promise<Record<string, string>>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`data-source stand-in silent for ${timeoutMs} ms:\n${out.slice(-2000)}`)), timeoutMs);
    const onData = (chunk: Buffer) => {
      out += chunk.toString('utf8');
      const line = out.split('\n').find((l) => l.includes('"standin":"data-sources"'));
      if (line) {
        clearTimeout(timer);
        resolve((JSON.parse(line) as { urls: Record<string, string> }).urls);
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`data-source stand-in exited (${code}):\n${out.slice(-2000)}`));
    });
  });
  const env: Record<string, string> = {};
  for (const [id, url] of Object.entries(urls)) env[envNameFor(id)] = url;
  return {
    env,
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
        setTimeout(() => child.kill('SIGKILL'), 5_000).unref();
      }),
  };
}

/** A filing ready to send: the enterprise's token (signed with the test secret) and the JSON body. */
export interface DistinctFiling {
  uscc: string;
  token: string;
  body: string;
}

/** Filings of enterprises `from … from+n-1` of `seed`, one each: never the same enterprise twice. */
export async function distinctFilings(n: number, seed: number, from = 0): Promise<DistinctFiling[]> {
  const out: DistinctFiling[] = [];
  for (let i = from; i < from + n; i++) {
    const e = syntheticEnterprise(i, seed);
    const token = await signDevToken(SECRET, e.uscc, { role: 'applicant' }, { ttlSeconds: 7200 });
    out.push({ uscc: e.uscc, token, body: JSON.stringify(grainFilingOf(e, SHENYANG_COUNTIES[i % SHENYANG_COUNTIES.length]!)) });
  }
  return out;
}
