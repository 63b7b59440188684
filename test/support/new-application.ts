/** A filing as the store receives it (NewApplication), for store tests: a new id on every call; `over` replaces any part. */
import type { NewApplication } from '../../src/store/types.js';

let counter = 0;

export function newApplication(createdAt: string, over: Partial<NewApplication> = {}): NewApplication {
  counter += 1;
  return {
    id: `app-${process.pid}-${counter}`,
    matter: 'grain-purchase-filing',
    matterVersion: 'sha256:abc',
    applicant: '91210100MA0Q1A2B6L',
    answers: {},
    form: {},
    consent: { dataSharing: true, sealAuthorization: true },
    bodyHash: 'b'.repeat(64),
    idempotencyKey: null,
    createdAt,
    ...over,
  };
}
