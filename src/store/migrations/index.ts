import type { Migration, MigrationProvider } from 'kysely';
import type { MigrationContext } from './context.js';
import { initial } from './0001-initial.js';
import { revocations } from './0002-revocations.js';
import { onceOnly } from './0003-once-only.js';
import { authoring } from './0004-authoring.js';
import { portalWebhooks } from './0005-portal-webhooks.js';
import { followUps } from './0006-follow-ups.js';
import { eseals } from './0007-eseals.js';
import { gm } from './0010-gm.js';
import { onceOnlyFigures } from './0014-once-only-figures.js';
import { bundles } from './0009-bundles.js';
import { federation } from './0011-federation.js';
import { scaleOut } from './0020-scale-out.js';
import { applicationNumbers } from './0040-application-numbers.js';
import { myApplications } from './0045-my-applications.js';
import { auditCheckpoints } from './0050-audit-checkpoints.js';
import { rollbackRequests } from './0051-rollback-requests.js';
import { idempotencyExpiry } from './0052-idempotency-expiry.js';
import { signingCertificateRevocations } from './0053-signing-certificate-revocations.js';
import { revocationAnnouncements } from './0054-revocation-announcements.js';
import { filingIdempotencyExpiry } from './0055-filing-idempotency-expiry.js';
import { binaryStorage } from './0056-binary-storage.js';
import { foreignKeyIndexes } from './0057-foreign-key-indexes.js';
import { certificateListIndexes } from './0058-certificate-list-indexes.js';
import { decisionTimeIndex } from './0059-decision-time-index.js';

/**
 * Every migration, in order. Names are `NNNN-name` (the file name); Kysely applies them in name order and
 * records each in `kysely_migration`. Never rename or edit an applied migration: add a new one.
 */
const MIGRATIONS: ReadonlyArray<readonly [string, (ctx: MigrationContext) => Migration]> = [
  ['0001-initial', initial],
  ['0002-revocations', revocations],
  ['0003-once-only', onceOnly],
  ['0004-authoring', authoring],
  ['0005-portal-webhooks', portalWebhooks],
  ['0006-follow-ups', followUps],
  ['0007-eseals', eseals],
  ['0010-gm', gm],
  ['0014-once-only-figures', onceOnlyFigures],
  ['0009-bundles', bundles],
  ['0011-federation', federation],
  ['0020-scale-out', scaleOut],
  ['0040-application-numbers', applicationNumbers],
  ['0045-my-applications', myApplications],
  ['0050-audit-checkpoints', auditCheckpoints],
  ['0051-rollback-requests', rollbackRequests],
  ['0052-idempotency-expiry', idempotencyExpiry],
  ['0053-signing-certificate-revocations', signingCertificateRevocations],
  ['0054-revocation-announcements', revocationAnnouncements],
  ['0055-filing-idempotency-expiry', filingIdempotencyExpiry],
  ['0056-binary-storage', binaryStorage],
  ['0057-foreign-key-indexes', foreignKeyIndexes],
  ['0058-certificate-list-indexes', certificateListIndexes],
  ['0059-decision-time-index', decisionTimeIndex],
];

/** In-code provider: no filesystem scanning, so it works the same from `src/` (tsx) and `dist/`. */
export function migrationProvider(ctx: MigrationContext): MigrationProvider {
  return {
    getMigrations(): Promise<Record<string, Migration>> {
      return Promise.resolve(Object.fromEntries(MIGRATIONS.map(([name, make]) => [name, make(ctx)])));
    },
  };
}
