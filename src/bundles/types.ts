/**
 * A 一件事 bundle as authored in rules/bundles/*.yaml (schema: rules/schema/bundle.schema.json): one application that
 * fans out to member matters of several departments and levels (DESIGN.md §10). Pure types, no I/O.
 */
import type { Question } from '../catalog/types.js';

/** request: 依申请, only when the applicant asks for it; proactive: 免申即享, decided for everyone it applies to. */
export type MemberMode = 'request' | 'proactive';
/** 办理层级: the level of government that decides the member. */
export type MemberLevel = '区县' | '市' | '省';

export interface BundleMemberDef {
  /** Code of an ordinary matter in rules/matters/. */
  matter: string;
  level: MemberLevel;
  mode: MemberMode;
  /** Members decided first when they are part of the same application (e.g. 护理补贴 after the 残疾人证). */
  dependsOn?: string[];
  /** Answers under which the member applies at all (e.g. 就业失业登记 only for 本人); absent = always. */
  appliesWhen?: Record<string, string>;
  /** The data source that lists the certificates this member issues (the card it issues is a disability-card record). */
  publishesTo?: string;
  note?: string;
}

export interface BundleDef {
  code: string;
  name: string;
  /** 牵头部门: runs the bundle and signs its result notice. */
  owner: { name: string; code: string };
  legalBasis: string[];
  applicantTypes: Array<'person' | 'organisation'>;
  consent: { purpose: string };
  /** The questions the members share, asked once. */
  questions: Question[];
  /** JSON Schema of the one form. */
  form: Record<string, unknown>;
  output: { form: { title: string }; notice: { title: string; numberPrefix: string } };
  members: BundleMemberDef[];
}

/** Member status as the applicant sees it (DESIGN.md §10 `members[].status`). */
export type MemberStatus = 'queued' | 'processing' | 'approved' | 'rejected' | 'manual_review' | 'failed';

export type BundleStatus = 'processing' | 'completed';
