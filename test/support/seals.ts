/**
 * An applicant's seal for tests that sign e-forms outside the pipeline: the development e-seal authority (in
 * memory) enrols the party and a seal signer signs through it, as the worker does with the real platform.
 */
import { randomUUID } from 'node:crypto';
import type { Party } from '../../src/documents/types.js';
import { createDevelopmentAuthority, memorySealStore } from '../../src/signing/eseal/development-authority.js';
import { sealSigner } from '../../src/signing/eseal/seal-signer.js';
import type { DevPki } from '../../src/signing/pki.js';
import type { Signer } from '../../src/signing/types.js';

export async function applicantSealSigner(pki: DevPki, party: Party): Promise<Signer> {
  const authority = createDevelopmentAuthority({ store: memorySealStore(), ca: pki.esealCa, poolSize: 2 });
  const seal = await authority.enrol(party);
  return sealSigner({
    platform: authority,
    seal,
    authorization: { applicationId: 'test', purpose: 'test' },
    audit: () => undefined,
    newId: randomUUID,
    clock: () => new Date(),
  });
}
