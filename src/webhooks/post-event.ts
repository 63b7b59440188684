/**
 * One delivery attempt: POST the signed body to the webhook URL over http(s) with the guarded lookup. Literal IP
 * hosts (which skip DNS) are checked here; redirects are not followed (a 3xx is a failed attempt); the response body
 * is read and dropped, bounded.
 */
import http from 'node:http';
import https from 'node:https';
import { isIP } from 'node:net';
import { addressAllowed, BlockedAddressError, guardedLookup, urlHost } from './address-guard.js';

export interface PostOptions {
  allowLoopback: boolean;
  timeoutMs: number;
}

export interface PostResult {
  statusCode: number;
}

const MAX_RESPONSE_BYTES = 64 * 1024;

export function postEvent(url: string, body: string, headers: Record<string, string>, opts: PostOptions): Promise<PostResult> {
  return new Promise((resolve, reject) => {
    let u: URL;
    try {
      u = new URL(url);
    } catch {
      reject(new Error('invalid URL'));
      return;
    }
    if (u.protocol !== 'http:' && u.protocol !== 'https:') {
      reject(new Error(`unsupported scheme ${u.protocol}`));
      return;
    }
    const host = urlHost(u);
    if (isIP(host) !== 0 && !addressAllowed(host, opts.allowLoopback)) {
      reject(new BlockedAddressError(host, host));
      return;
    }
    const request = (u.protocol === 'https:' ? https : http).request(
      u,
      {
        method: 'POST',
        agent: false,
        lookup: guardedLookup(opts.allowLoopback),
        headers: { ...headers, 'content-length': String(Buffer.byteLength(body)) },
        timeout: opts.timeoutMs,
      },
      (res) => {
        let seen = 0;
        res.on('data', (chunk: Buffer) => {
          seen += chunk.length;
          if (seen > MAX_RESPONSE_BYTES) res.destroy();
        });
        res.on('close', () => resolve({ statusCode: res.statusCode ?? 0 }));
        res.on('error', () => resolve({ statusCode: res.statusCode ?? 0 }));
      },
    );
    const deadline = setTimeout(() => request.destroy(new Error(`no answer within ${opts.timeoutMs} ms`)), opts.timeoutMs);
    request.on('close', () => clearTimeout(deadline));
    request.on('timeout', () => request.destroy(new Error(`no answer within ${opts.timeoutMs} ms`)));
    request.on('error', reject);
    request.end(body);
  });
}
