/**
 * A render thread (./render-pool.ts): lays out and writes unsigned PDFs off the worker's main thread. It holds no
 * keys and no database connection — it gets plain content and returns bytes; signing stays with the caller.
 */
import { parentPort } from 'node:worker_threads';
import { renderCertificate, renderForm } from './certificate-pdf.js';
import { loadFont } from '../fonts.js';
import type { RenderRequest, RenderReply } from './render-pool.js';

if (!parentPort) throw new Error('render-thread.ts runs as a worker thread (src/documents/pdf/render-pool.ts)');
const port = parentPort;
loadFont();

port.on('message', (req: RenderRequest) => {
  const run = req.kind === 'certificate' ? renderCertificate(req.content, req.sig) : renderForm(req.content, req.sig);
  run.then(
    (bytes) => {
      // Hand the bytes over without a copy when they own their buffer.
      const own = bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength;
      const out = own ? bytes : new Uint8Array(bytes);
      port.postMessage({ id: req.id, ok: true, bytes: out } satisfies RenderReply, [out.buffer as ArrayBuffer]);
    },
    (err: unknown) => {
      const e = err as { name?: string; message?: string; code?: unknown; missing?: unknown };
      port.postMessage({
        id: req.id,
        ok: false,
        error: { name: e?.name ?? 'Error', message: e?.message ?? String(err), code: typeof e?.code === 'string' ? e.code : null, ...(Array.isArray(e?.missing) ? { missing: e.missing } : {}) },
      } satisfies RenderReply);
    },
  );
});
