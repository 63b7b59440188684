/**
 * Unsigned PDFs (e-form and certificate) laid out and written on worker threads. On SQLite the service runs one
 * worker process (a second writer on the file costs more than it brings); PDF layout and writing (~2.4 ms of a
 * filing's main-thread time) is work that needs neither the database nor a key, so threads take it to the other
 * core(s). Signing, which needs the keys (file, PKCS#11, the e-seal platform), stays on the main thread.
 *
 * An error in a thread comes back as the same kind of error: PermanentFailure with its code (CERTIFICATE_TOO_LONG,
 * …), UnprintableTextError with its missing characters. A thread that dies fails its requests and is replaced.
 */
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import { PermanentFailure, type ErrorCode } from '../../errors.js';
import { UnprintableTextError } from '../fonts.js';
import { renderCertificate, renderForm } from './certificate-pdf.js';
import type { CertificateContent, FormContent, SignatureMeta } from '../types.js';

export interface PdfRenderer {
  certificate(content: CertificateContent, sig: SignatureMeta): Promise<Uint8Array>;
  form(content: FormContent, sig: SignatureMeta): Promise<Uint8Array>;
  close(): Promise<void>;
}

/** In this thread (the API process, tests, RENDER_THREADS=0). */
export const inProcessRenderer: PdfRenderer = {
  certificate: renderCertificate,
  form: renderForm,
  close: async () => undefined,
};

export type RenderRequest =
  | { id: number; kind: 'certificate'; content: CertificateContent; sig: SignatureMeta }
  | { id: number; kind: 'form'; content: FormContent; sig: SignatureMeta };

export type RenderReply =
  | { id: number; ok: true; bytes: Uint8Array }
  | { id: number; ok: false; error: { name: string; message: string; code: string | null; missing?: Array<{ char: string; codePoint: string; where: string }> } };

function revive(e: Extract<RenderReply, { ok: false }>['error']): Error {
  if (e.name === 'UnprintableTextError' && e.missing) return new UnprintableTextError(e.missing);
  if (e.name === 'PermanentFailure' || e.code !== null) {
    const err = new PermanentFailure('', e.code as ErrorCode | null);
    err.message = e.message;
    return err;
  }
  const err = new Error(e.message);
  err.name = e.name;
  return err;
}

/**
 * The thread: the built .js next to this file; under tsx or vitest (tests run the .ts sources) a module that
 * registers tsx's loader in the thread first, then imports the .ts source.
 */
function spawnThread(): Worker {
  const here = import.meta.url;
  if (!here.endsWith('.ts')) return new Worker(new URL('./render-thread.js', here));
  // The ESM build of tsx's API (its package exports it under the import condition, next to the CommonJS one).
  const tsx = pathToFileURL(createRequire(here).resolve('tsx/esm/api').replace(/\.cjs$/, '.mjs')).href;
  const entry = new URL('./render-thread.ts', here).href;
  const boot = `const { register } = await import(${JSON.stringify(tsx)}); register(); await import(${JSON.stringify(entry)});`;
  return new Worker(new URL(`data:text/javascript,${encodeURIComponent(boot)}`));
}

export function renderPool(size: number): PdfRenderer {
  if (size < 1) return inProcessRenderer;
  const pending = new Map<number, { resolve: (b: Uint8Array) => void; reject: (e: Error) => void; thread: Slot }>();
  let nextId = 1;
  let closed = false;
  interface Slot {
    worker: Worker;
    inFlight: number;
    dead: boolean;
  }
  const slots: Slot[] = [];

  function spawn(): Slot {
    const slot: Slot = { worker: spawnThread(), inFlight: 0, dead: false };
    slot.worker.on('message', (reply: RenderReply) => {
      const p = pending.get(reply.id);
      if (!p) return;
      pending.delete(reply.id);
      slot.inFlight--;
      if (reply.ok) p.resolve(reply.bytes);
      else p.reject(revive(reply.error));
    });
    const fail = (err: Error) => {
      if (slot.dead) return;
      slot.dead = true;
      for (const [id, p] of pending) {
        if (p.thread !== slot) continue;
        pending.delete(id);
        p.reject(err);
      }
      slot.inFlight = 0;
      const i = slots.indexOf(slot);
      if (i >= 0) slots.splice(i, 1);
      if (!closed) slots.push(spawn());
    };
    slot.worker.on('error', (err) => fail(err));
    slot.worker.on('exit', (code) => fail(new Error(`render thread exited (${code})`)));
    // Idle threads do not keep the process alive.
    slot.worker.unref();
    return slot;
  }
  for (let i = 0; i < size; i++) slots.push(spawn());

  function send(req: Omit<RenderRequest, 'id'>): Promise<Uint8Array> {
    if (closed) return Promise.reject(new Error('render pool closed'));
    let slot = slots[0]!;
    for (const s of slots) if (s.inFlight < slot.inFlight) slot = s;
    const id = nextId++;
    slot.inFlight++;
    return new Promise<Uint8Array>((resolve, reject) => {
      pending.set(id, { resolve, reject, thread: slot });
      slot.worker.postMessage({ ...req, id });
    });
  }

  return {
    certificate: (content, sig) => send({ kind: 'certificate', content, sig }),
    form: (content, sig) => send({ kind: 'form', content, sig }),
    async close() {
      closed = true;
      await Promise.all(slots.map((s) => s.worker.terminate()));
      slots.length = 0;
    },
  };
}
