/**
 * A small, bounded multipart/form-data reader for material uploads (one file part plus a few text fields).
 * The body is already capped by Fastify's bodyLimit; this only splits it. `@fastify/multipart` would stream, which
 * a ≤ 10 MiB upload held in memory does not need.
 */
import { AppError } from '../errors.js';

export interface MultipartForm {
  fields: Record<string, string>;
  file: { fieldName: string; fileName: string | null; bytes: Buffer } | null;
}

const MAX_PARTS = 16;
const MAX_HEADER_BYTES = 8 * 1024;
const MAX_FIELD_BYTES = 1024;

/** The boundary of a `multipart/form-data; boundary=…` content type, or null. */
export function multipartBoundary(contentType: string | undefined): string | null {
  if (!contentType || !/^multipart\/form-data\s*;/i.test(contentType)) return null;
  const m = /;\s*boundary=(?:"([^"]{1,70})"|([^\s;]{1,70}))/i.exec(contentType);
  return m ? (m[1] ?? m[2] ?? null) : null;
}

/**
 * Splits `body` into text fields and at most one file part.
 * @throws AppError MULTIPART_MALFORMED on a missing boundary, too many parts, oversized headers or fields, or
 *         a second file.
 */
export function parseMultipart(body: Buffer, boundary: string): MultipartForm {
  const malformed = (why: string) => new AppError('MULTIPART_MALFORMED', { errors: [{ path: '/', message: why }] });
  const delimiter = Buffer.from(`--${boundary}`);
  let pos = body.indexOf(delimiter);
  if (pos < 0) throw malformed('boundary not found');
  const fields: Record<string, string> = {};
  let file: MultipartForm['file'] = null;
  for (let parts = 0; ; parts++) {
    pos += delimiter.length;
    if (body.subarray(pos, pos + 2).toString('latin1') === '--') break; // closing delimiter
    if (parts >= MAX_PARTS) throw malformed('too many parts');
    if (body.subarray(pos, pos + 2).toString('latin1') !== '\r\n') throw malformed('expected CRLF after boundary');
    pos += 2;
    const headerEnd = body.indexOf('\r\n\r\n', pos, 'latin1');
    if (headerEnd < 0 || headerEnd - pos > MAX_HEADER_BYTES) throw malformed('part headers missing or too long');
    const headers = body.subarray(pos, headerEnd).toString('utf8');
    const next = body.indexOf(Buffer.from(`\r\n--${boundary}`), headerEnd + 4);
    if (next < 0) throw malformed('part not terminated');
    const content = body.subarray(headerEnd + 4, next);
    const disposition = /^content-disposition:\s*form-data\s*;(.*)$/im.exec(headers)?.[1] ?? null;
    if (disposition === null) throw malformed('part without Content-Disposition: form-data');
    const name = /\bname="([^"]*)"/i.exec(disposition)?.[1];
    if (!name) throw malformed('part without a name');
    const fileName = /\bfilename="([^"]*)"/i.exec(disposition)?.[1];
    if (fileName !== undefined) {
      if (file) throw malformed('only one file per upload');
      file = { fieldName: name, fileName: fileName === '' ? null : fileName, bytes: Buffer.from(content) };
    } else {
      if (content.length > MAX_FIELD_BYTES) throw malformed(`field ${name} too long`);
      fields[name] = content.toString('utf8');
    }
    pos = next + 2;
  }
  return { fields, file };
}

/** The media type of a file judged by its first bytes (never by its name or the declared type). */
export function sniffMediaType(bytes: Uint8Array): 'application/pdf' | 'image/jpeg' | 'image/png' | null {
  const head = Buffer.from(bytes.buffer, bytes.byteOffset, Math.min(bytes.byteLength, 1024));
  if (head.subarray(0, 5).toString('latin1') === '%PDF-') return 'application/pdf';
  if (head.length >= 3 && head[0] === 0xff && head[1] === 0xd8 && head[2] === 0xff) return 'image/jpeg';
  if (head.subarray(0, 8).equals(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]))) return 'image/png';
  return null;
}
