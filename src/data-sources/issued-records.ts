/**
 * Once-only for results this service issues: a data source that lists a kind of certificate (the 残疾人证管理系统 lists
 * 残疾人证) also answers with the valid certificates this service issued for that key, so a later filing — or the
 * next member of a 一件事 bundle — finds the card issued a second ago without waiting for the other system to sync.
 * The register answers first (it is authoritative for what was issued here); otherwise the source is read as usual.
 */
import { createHash } from 'node:crypto';
import type { SourceRead } from '../domain/types.js';
import type { CertificateRow, Store } from '../store/types.js';
import type { DataSource, ReadContext } from './types.js';

export interface IssuedRecordsOptions {
  /** The matter whose certificates the source lists. */
  matter: string;
  certificates: Pick<Store['certificates'], 'findValid'>;
  /** The source's record shape for one of our certificates (DESIGN.md §4). */
  toRecord(cert: CertificateRow, key: string): Record<string, unknown>;
  now?: () => Date;
}

/** Record of a 残疾人证 issued here in the `disability-card` shape {idNumber, cardNo, status, validUntil}. */
export function cardRecord(cert: CertificateRow, key: string): Record<string, unknown> {
  return { idNumber: key, cardNo: cert.number, status: '有效', validUntil: cert.validUntil, issuedBy: cert.issuerName, certificateId: cert.id };
}

export function withIssuedRecords(source: DataSource, opts: IssuedRecordsOptions): DataSource {
  const now = opts.now ?? (() => new Date());
  // The resilient wrapper's breaker state stays visible to /metrics through this one.
  const breaker = 'breaker' in source && typeof source.breaker === 'function' ? { breaker: (source.breaker as () => unknown).bind(source) } : {};
  return {
    ...breaker,
    id: source.id,
    backend: source.backend,
    async read(key: string, ctx: ReadContext): Promise<SourceRead> {
      const cert = await opts.certificates.findValid(opts.matter, key);
      // A filing's own certificate (a retried job of the card itself) is not a card held before it.
      if (!cert || cert.applicationId === ctx.applicationId) return source.read(key, ctx);
      const record = opts.toRecord(cert, key);
      return {
        source: source.id,
        key,
        status: 'found',
        record,
        responseHash: createHash('sha256').update(JSON.stringify(record)).digest('hex'),
        fetchedAt: now().toISOString(),
      };
    },
  };
}
