/**
 * The applicant's seal for the e-form (DESIGN.md §9): an enterprise's 电子印章 or a citizen's 个人电子签名, held by
 * the e-seal platform and used only under the filing's seal authorisation. The service never invents one: no seal,
 * a seal that is not 有效, or a platform that does not answer makes the filing a manual review, with that reason.
 * The development authority (embedded default) enrols an applicant on first use, as a platform enrols on
 * application.
 */
import type { Party } from '../documents/types.js';
import type { RuleEvaluation } from '../domain/types.js';
import { sealProblem, type ESealPlatform, type SealLookup } from '../signing/eseal/contract.js';
import type { DevelopmentAuthority } from '../signing/eseal/development-authority.js';
import { ESealSignError, sealSigner } from '../signing/eseal/seal-signer.js';
import type { Signer } from '../signing/types.js';
import type { ESealSignEntry } from '../store/types.js';

export interface SealDeps {
  eseal: ESealPlatform | DevelopmentAuthority;
  clock: () => Date;
  newId: () => string;
}

export type ApplicantSeal = { ok: true; signer: Signer } | { ok: false; evaluation: RuleEvaluation };

/** Legal basis printed with every seal reason. */
export const SEAL_BASIS = '《中华人民共和国电子签名法》第十三条、第十四条；申请人授权以其电子印章（个人电子签名）签署申请表';

function manual(id: string, message: string): ApplicantSeal {
  return { ok: false, evaluation: { id, result: 'UNKNOWN', message, basis: SEAL_BASIS, onFail: 'MANUAL' } };
}

/**
 * Turns the platform's answer into a signer for the e-form, or into the manual-review reason. `audit` receives
 * one entry per sign request the signer makes.
 */
export async function applicantSeal(
  deps: SealDeps,
  lookup: SealLookup,
  holder: Party,
  kind: 'organisation' | 'person',
  authorization: { applicationId: string; purpose: string },
  today: string,
  audit: (e: ESealSignEntry) => void,
): Promise<ApplicantSeal> {
  const who = kind === 'person' ? '个人电子签名' : '企业电子印章';
  const en = kind === 'person' ? 'personal e-signature' : 'e-seal';
  let answer = lookup;
  if (answer.kind === 'none' && 'enrol' in deps.eseal) {
    answer = { kind: 'found', seal: await deps.eseal.enrol(holder) };
  }
  if (answer.kind === 'unavailable') {
    return manual('eseal-unavailable', `电子印章平台暂时无法访问，申请表未能签章，转人工办理 The e-seal platform could not be reached; the form is not sealed and a person handles the filing`);
  }
  if (answer.kind === 'none') {
    return manual('eseal-missing', `申请人尚未在电子印章平台申领${who}，申请表无法签章，转人工办理 The applicant has no ${en} on the e-seal platform; a person handles the filing`);
  }
  const problem = sealProblem(answer.seal, today, who);
  if (problem !== null) return manual('eseal-not-valid', `${problem}，转人工办理`);
  try {
    return { ok: true, signer: sealSigner({ platform: deps.eseal, seal: answer.seal, authorization, audit, newId: deps.newId, clock: deps.clock }) };
  } catch (err) {
    if (err instanceof ESealSignError) return manual('eseal-not-valid', `${who}不能用于签章：${err.message}，转人工办理`);
    throw err;
  }
}

/** The manual-review reason when the platform refused or failed to sign. */
export function sealSignFailed(err: ESealSignError): RuleEvaluation {
  return {
    id: 'eseal-sign-failed',
    result: 'UNKNOWN',
    message: `电子印章平台未能完成申请表签章，转人工办理 The e-seal platform did not sign the form (${err.message.slice(0, 120)})`,
    basis: SEAL_BASIS,
    onFail: 'MANUAL',
  };
}
