/**
 * Rule authoring for department admins (issue 6): drafts checked like rules/ files, their test cases, a back-test
 * on past filings, four-eyes approval, publication as an immutable content-hashed version, rollback, and the
 * manual review queue. Every change is appended to the hash-chained audit log in its own transaction.
 * Another department's matters, drafts and filings are "not found".
 */
import { canonicalJson, type LoadedMatter } from '../catalog/load-catalog.js';
import type { VersionedCatalog } from '../catalog/versioned-catalog.js';
import type { DataSource } from '../data-sources/types.js';
import type { Party } from '../documents/types.js';
import type { Decision } from '../domain/types.js';
import { AppError, PermanentFailure, type FieldError } from '../errors.js';
import type { LookupFact } from '../pipeline/evaluate-rules.js';
import { issueCertificate, type IssueDeps } from '../pipeline/issue-certificate.js';
import { ruleCoverage, runMatterTests, type MatterTestResult } from '../pipeline/run-matter-tests.js';
import type { AuditEntry, Draft, MatterVersion, ReviewItem, RollbackRequest } from '../store/authoring-store.js';
import type { ArchiveMaterialRow, ApplicationRow, FilingMaterial, Store } from '../store/types.js';
import { backtest, type BacktestReport } from './backtest.js';
import { certificateInputs as deriveCertificateInputs } from '../pipeline/certificate-inputs.js';

/** The acting admin: `sub` and department code (`dept` claim). */
export interface Actor {
  sub: string;
  dept: string;
}

export interface AuthoringDeps {
  store: Store;
  catalog: VersionedCatalog;
  /** Sources the draft tests run against: the fixture backend over rules/demo-data, like `npm run rules -- test`. */
  testSources: ReadonlyMap<string, DataSource>;
  /** Departments that have seal keys: a new matter may only be created for one of them. */
  departments: readonly Party[];
  issue: IssueDeps;
  clock: () => Date;
  newId: () => string;
}

export interface DraftTestReport {
  draftId: string;
  version: string;
  passed: boolean;
  cases: Array<Pick<MatterTestResult, 'index' | 'name' | 'ok' | 'situation' | 'outcome' | 'failing' | 'problems'>>;
  /** Every rule needs a case in which it passes and one in which it fails. */
  coverage: Array<{ rule: string; pass: number; fail: number; ok: boolean }>;
}

export type Authoring = ReturnType<typeof createAuthoring>;

/**
 * One material of a filing as its reviewer sees it (issue 18): how it was obtained (免交 from shared data, 复用 from the
 * applicant's archive, upload, 告知承诺, 系统生成) and, when the applicant supplied a file, that file.
 */
export interface FilingMaterialView {
  material: string;
  name: string;
  /** The acquisition that held: 证照共享 / 数据核验 / 业务协同 / 材料复用 / 告知承诺 / upload / 系统生成. */
  how: string;
  /** The material plan's status (verified, reused, upload, commitment, generated, not_found …). */
  status: string;
  /** The supervision figure it counts in: exempted, reused, uploaded, committed, generated or missing. */
  category: FilingMaterial['category'];
  /** 免交: the applicant submitted nothing for this filing (read from a source, or reused from the archive). */
  exempt: boolean;
  commitment: string | null;
  file: { archiveId: string; fileName: string | null; mediaType: string; size: number; sha256: string; validUntil: string | null; uploadedAt: string } | null;
}

/** `draft: /rules/3/onFail: message` → `{path, message}`. */
function problemToError(problem: string, label: string): FieldError {
  const rest = problem.startsWith(`${label}: `) ? problem.slice(label.length + 2) : problem;
  const i = rest.indexOf(': ');
  return i > 0 && rest.startsWith('/') ? { path: rest.slice(0, i), message: rest.slice(i + 2) } : { path: '/', message: rest };
}

export function createAuthoring(deps: AuthoringDeps) {
  const { store, catalog } = deps;
  const now = () => deps.clock().toISOString();

  /** The matter's current version, if it belongs to the admin's department (else 404). */
  function ownMatter(actor: Actor, code: string): LoadedMatter {
    const m = catalog.get(code);
    if (!m || m.def.department.code !== actor.dept) throw new AppError('MATTER_NOT_FOUND');
    return m;
  }

  /** A filing of one of the admin's department's matters (else 404, as if it did not exist). */
  async function ownFiling(actor: Actor, id: string): Promise<ApplicationRow> {
    const app = await store.applications.get(id);
    if (!app || catalog.get(app.matter)?.def.department.code !== actor.dept) throw new AppError('APPLICATION_NOT_FOUND');
    return app;
  }

  async function ownDraft(actor: Actor, id: string): Promise<Draft> {
    const d = await store.authoring.getDraft(id);
    if (!d || d.department !== actor.dept) throw new AppError('DRAFT_NOT_FOUND');
    return d;
  }

  function compileDraft(d: Draft): LoadedMatter {
    const res = catalog.check(d.definition, `draft ${d.id}`);
    // Checked when it was created; failing now means the data-source registry changed under it.
    if (!res.matter) throw new AppError('DRAFT_INVALID', { errors: res.problems.map((p) => problemToError(p, `draft ${d.id}`)) });
    return res.matter;
  }

  /** Certificate codes are unique across matters (the loader's cross-matter check, against the live catalog). */
  function crossMatterProblems(def: LoadedMatter['def']): FieldError[] {
    const errors: FieldError[] = [];
    for (const other of catalog.matters.values()) {
      if (other.def.code === def.code) continue;
      const o = other.def.output.certificate;
      if (o.licenseTypeCode === def.output.certificate.licenseTypeCode) errors.push({ path: '/output/certificate/licenseTypeCode', message: `"${o.licenseTypeCode}" is already used by ${other.def.code}` });
      if (o.numberPrefix === def.output.certificate.numberPrefix) errors.push({ path: '/output/certificate/numberPrefix', message: `"${o.numberPrefix}" is already used by ${other.def.code}` });
    }
    return errors;
  }

  async function runTests(d: Draft, matter: LoadedMatter): Promise<DraftTestReport> {
    const results = await runMatterTests(matter, deps.testSources, deps.clock());
    const coverage = ruleCoverage(matter, results).map((c) => ({ ...c, ok: c.pass > 0 && c.fail > 0 }));
    const passed = results.every((r) => r.ok) && coverage.every((c) => c.ok);
    await store.authoring.recordTests(d.id, passed, now());
    return {
      draftId: d.id,
      version: d.version,
      passed,
      cases: results.map(({ index, name, ok, situation, outcome, failing, problems }) => ({ index, name, ok, situation, outcome, failing, problems })),
      coverage,
    };
  }

  function draftView(d: Draft) {
    return {
      id: d.id,
      matter: d.matter,
      version: d.version,
      baseVersion: d.baseVersion,
      status: d.status,
      author: d.author,
      createdAt: d.createdAt,
      testsPassed: d.testsPassed,
      testedAt: d.testedAt,
      approvedBy: d.approvedBy,
      approvedAt: d.approvedAt,
      publishedBy: d.publishedBy,
      publishedAt: d.publishedAt,
    };
  }

  function rollbackView(r: RollbackRequest) {
    return {
      id: r.id,
      matter: r.matter,
      version: r.version,
      previousVersion: r.expected,
      reason: r.reason,
      status: r.status,
      requestedBy: r.requestedBy,
      requestedAt: r.requestedAt,
      approvedBy: r.approvedBy,
      approvedAt: r.approvedAt,
    };
  }

  function fileView(item: ArchiveMaterialRow): FilingMaterialView['file'] {
    const { id, fileName, mediaType, size, sha256, validUntil, uploadedAt } = item;
    return { archiveId: id, fileName, mediaType, size, sha256, validUntil, uploadedAt };
  }

  function versionView(v: MatterVersion, current: string | undefined) {
    return { version: v.version, origin: v.origin, draftId: v.draftId, createdBy: v.createdBy, createdAt: v.createdAt, current: v.version === current };
  }

  /** Certificate inputs for a filing decided by the worker: the same derivation as processApplication. */
  function certificateInputs(matter: LoadedMatter, facts: Record<string, unknown>, answers: Record<string, unknown>, form: Record<string, unknown>) {
    const top = Object.fromEntries(matter.def.lookups.filter((l) => !l.forEach).map((l) => [l.id, facts[l.id] as LookupFact]));
    return deriveCertificateInputs(matter, { applicant: facts.applicant as { code: string }, answers, form }, top);
  }

  return {
    listMatters(actor: Actor) {
      return [...catalog.matters.values()]
        .filter((m) => m.def.department.code === actor.dept)
        .map((m) => ({ code: m.def.code, name: m.def.name, kind: m.def.kind, autoApprove: m.def.autoApprove, version: m.version }));
    },

    async listVersions(actor: Actor, code: string) {
      const m = ownMatter(actor, code);
      const versions = await store.authoring.listVersions(code);
      return { matter: code, current: m.version, versions: versions.map((v) => versionView(v, m.version)) };
    },

    async getVersion(actor: Actor, code: string, version: string) {
      const m = ownMatter(actor, code);
      const v = await store.authoring.getVersion(code, version);
      if (!v) throw new AppError('VERSION_NOT_FOUND');
      return { ...versionView(v, m.version), matter: code, definition: JSON.parse(v.definition) as unknown, source: v.source, sourceFormat: v.sourceFormat };
    },

    /** `text` is the definition as sent (YAML or JSON); the matter code in the path must match the text's. */
    async createDraft(actor: Actor, code: string, text: string, format: 'yaml' | 'json') {
      const existing = catalog.get(code);
      if (existing && existing.def.department.code !== actor.dept) throw new AppError('MATTER_NOT_FOUND');
      const label = 'draft';
      const res = catalog.check(text, label);
      if (!res.matter) throw new AppError('DRAFT_INVALID', { errors: res.problems.map((p) => problemToError(p, label)) });
      const def = res.matter.def;
      const errors: FieldError[] = [];
      if (def.code !== code) errors.push({ path: '/code', message: `须与路径中的事项代码一致 must be "${code}", the matter in the path` });
      if (def.department.code !== actor.dept) errors.push({ path: '/department/code', message: `须为本部门代码 must be your department's code ${actor.dept}` });
      else if (!existing && !deps.departments.some((d) => d.code === actor.dept)) {
        errors.push({ path: '/department/code', message: '该部门尚无签章密钥，不能新增事项 this department has no seal key configured for new matters' });
      }
      errors.push(...crossMatterProblems(def));
      if (existing && existing.version === res.matter.version) errors.push({ path: '/', message: `与当前版本相同 identical to the current version ${existing.version}` });
      if (errors.length > 0) throw new AppError('DRAFT_INVALID', { errors });
      const draft: Draft = {
        id: deps.newId(),
        matter: code,
        department: actor.dept,
        version: res.matter.version,
        baseVersion: existing?.version ?? null,
        definition: canonicalJson(def),
        source: text,
        sourceFormat: format,
        author: actor.sub,
        createdAt: now(),
        status: 'open',
        testsPassed: null,
        testedAt: null,
        approvedBy: null,
        approvedAt: null,
        publishedBy: null,
        publishedAt: null,
      };
      await store.authoring.createDraft(draft);
      return draftView(draft);
    },

    async getDraft(actor: Actor, id: string) {
      const d = await ownDraft(actor, id);
      // The text as written, for the console's diff against the published version (issue 18).
      return { ...draftView(d), source: d.source, sourceFormat: d.sourceFormat };
    },

    /**
     * The department's open drafts (issue 18): `mine` — written by this admin; `awaiting` — written by another admin
     * and not yet approved, so this one may approve them (four eyes); `open` — all not yet published.
     */
    async listDrafts(actor: Actor, which: 'mine' | 'awaiting' | 'open', limit: number) {
      const rows = await store.authoring.listDrafts(actor.dept, { openOnly: true, limit: 500 });
      const chosen = rows.filter((d) => (which === 'mine' ? d.author === actor.sub : which === 'awaiting' ? d.author !== actor.sub && d.approvedBy === null : true));
      return chosen.slice(0, limit).map((d) => {
        const m = catalog.get(d.matter);
        return { ...draftView(d), matterName: m?.def.name ?? d.matter, currentVersion: m?.version ?? null, stale: (m?.version ?? null) !== d.baseVersion };
      });
    },

    async testDraft(actor: Actor, id: string): Promise<DraftTestReport> {
      const d = await ownDraft(actor, id);
      return runTests(d, compileDraft(d));
    },

    async backtestDraft(actor: Actor, id: string, limit: number): Promise<BacktestReport & { draftId: string; baseVersion: string | null; limit: number }> {
      const d = await ownDraft(actor, id);
      const matter = compileDraft(d);
      const filings = await store.authoring.decidedFilings(d.matter, limit);
      return { draftId: d.id, baseVersion: d.baseVersion, limit, ...(await backtest(matter, filings)) };
    },

    async approveDraft(actor: Actor, id: string) {
      const d = await ownDraft(actor, id);
      if (d.author === actor.sub) throw new AppError('DRAFT_SELF_APPROVAL');
      if (d.status !== 'open') throw new AppError('DRAFT_ALREADY_PUBLISHED');
      if (d.approvedBy !== null) throw new AppError('DRAFT_ALREADY_APPROVED');
      if (!(await store.authoring.approveDraft(id, actor.sub, actor.dept, now()))) throw new AppError('DRAFT_ALREADY_APPROVED');
      return draftView((await store.authoring.getDraft(id))!);
    },

    /** Only an approved draft (approver ≠ author) whose test cases all pass, over the version it was made from. */
    async publishDraft(actor: Actor, id: string) {
      const d = await ownDraft(actor, id);
      if (d.status !== 'open') throw new AppError('DRAFT_ALREADY_PUBLISHED');
      if (d.approvedBy === null || d.approvedBy === d.author) throw new AppError('DRAFT_NOT_APPROVED');
      const matter = compileDraft(d);
      // Run now, not trusted from an earlier /test: date-dependent cases may have changed their verdict.
      const tests = await runTests(d, matter);
      if (!tests.passed) {
        const errors = [
          ...tests.cases.filter((c) => !c.ok).map((c) => ({ path: `/tests/${c.index}`, message: `${c.name}: ${c.problems.join('; ')}` })),
          ...tests.coverage.filter((c) => !c.ok).map((c) => ({ path: '/rules', message: `rule ${c.rule}: ${c.pass} passing, ${c.fail} failing cases (needs at least one of each)` })),
        ];
        throw new AppError('DRAFT_TESTS_FAILING', { errors });
      }
      const cross = crossMatterProblems(matter.def);
      if (cross.length > 0) throw new AppError('DRAFT_INVALID', { errors: cross });
      const res = await store.authoring.publishDraft(id, actor.sub, actor.dept, now());
      if (res === 'not-open') throw new AppError('DRAFT_ALREADY_PUBLISHED');
      if (res === 'not-approved') throw new AppError('DRAFT_NOT_APPROVED');
      if (res === 'stale') throw new AppError('DRAFT_STALE');
      await catalog.refresh({ force: true });
      return { matter: d.matter, version: d.version, previousVersion: d.baseVersion, draftId: d.id, publishedBy: actor.sub };
    },

    /**
     * Four eyes (issue 17): asks to make an earlier version current again. Nothing changes until a second admin of
     * the department approves the request (`approveRollback`); both steps are audited.
     */
    async requestRollback(actor: Actor, code: string, version: string, reason: string) {
      const m = ownMatter(actor, code);
      if (m.version === version) throw new AppError('VERSION_ALREADY_CURRENT');
      if (!(await store.authoring.getVersion(code, version)) || !(await catalog.getVersion(code, version))) throw new AppError('VERSION_NOT_FOUND');
      const request = { id: deps.newId(), matter: code, department: actor.dept, version, expected: m.version, reason, requestedBy: actor.sub, requestedAt: now() };
      await store.authoring.requestRollback(request);
      return rollbackView({ ...request, status: 'pending', approvedBy: null, approvedAt: null });
    },

    async listRollbacks(actor: Actor, pendingOnly: boolean, limit: number) {
      return (await store.authoring.listRollbackRequests(actor.dept, { pendingOnly, limit })).map(rollbackView);
    },

    /** A second admin of the department carries the requested rollback out, if the matter is still where it was. */
    async approveRollback(actor: Actor, id: string) {
      const req = await store.authoring.getRollbackRequest(id);
      if (!req || req.department !== actor.dept) throw new AppError('ROLLBACK_NOT_FOUND');
      if (req.requestedBy === actor.sub) throw new AppError('ROLLBACK_SELF_APPROVAL');
      const res = await store.authoring.approveRollback(id, actor.sub, actor.dept, now());
      if (res === 'self-approval') throw new AppError('ROLLBACK_SELF_APPROVAL');
      if (res === 'not-pending') throw new AppError('ROLLBACK_NOT_PENDING');
      if (res === 'stale') throw new AppError('ROLLBACK_STALE');
      await catalog.refresh({ force: true });
      return { matter: req.matter, version: req.version, previousVersion: req.expected, request: id, requestedBy: req.requestedBy, approvedBy: actor.sub };
    },

    async reviewQueue(actor: Actor, limit: number): Promise<ReviewItem[]> {
      const codes = [...catalog.matters.values()].filter((m) => m.def.department.code === actor.dept).map((m) => m.def.code);
      return store.authoring.reviewQueue(codes, limit);
    },

    /**
     * The materials of a filing in the matter's order (issue 18), each with the applicant's file when there is one.
     * Empty until the filing is decided: the pipeline records how each material was obtained with the decision.
     */
    async filingMaterials(actor: Actor, applicationId: string): Promise<{ application: ApplicationRow; materials: FilingMaterialView[] }> {
      const app = await ownFiling(actor, applicationId);
      const rows = await store.figures.materials(app.id);
      const order = new Map((catalog.get(app.matter)?.def.materials ?? []).map((m, i) => [m.id, i]));
      rows.sort((a, b) => (order.get(a.material) ?? order.size) - (order.get(b.material) ?? order.size) || (a.material < b.material ? -1 : 1));
      const materials = await Promise.all(
        rows.map(async (r): Promise<FilingMaterialView> => {
          const item = r.archiveId ? await store.archive.get(r.archiveId) : null;
          // Only the applicant's own archive item is ever shown with its filing.
          const file = item && item.subject === app.applicant ? fileView(item) : null;
          return {
            material: r.material,
            name: r.name,
            how: r.how,
            status: r.status,
            category: r.category,
            exempt: r.category === 'exempted' || r.status === 'reused',
            commitment: r.commitment,
            file,
          };
        }),
      );
      return { application: app, materials };
    },

    /** The applicant's file of one material of the filing; MATERIAL_NOT_FOUND when that material has none. */
    async openMaterial(actor: Actor, applicationId: string, material: string): Promise<{ item: ArchiveMaterialRow; bytes: Uint8Array }> {
      const app = await ownFiling(actor, applicationId);
      const row = (await store.figures.materials(app.id)).find((r) => r.material === material);
      const file = row?.archiveId ? await store.archive.read(row.archiveId) : null;
      if (!file || file.item.subject !== app.applicant) throw new AppError('MATERIAL_NOT_FOUND');
      return file;
    },

    /** Approves a manual_review filing: the certificate is issued by the worker's own issueCertificate. */
    async manualApprove(actor: Actor, applicationId: string, note: string | null) {
      const app = await store.applications.get(applicationId);
      const current = app ? catalog.get(app.matter) : undefined;
      if (!app || !current || current.def.department.code !== actor.dept) throw new AppError('APPLICATION_NOT_FOUND');
      if (app.status !== 'manual_review' || !app.receipt) throw new AppError('REVIEW_NOT_PENDING');
      const at = now();
      const claim = await store.authoring.claimManualDecision({ applicationId, outcome: 'APPROVE', reason: note ?? '', by: actor.sub, dept: actor.dept, at });
      if (claim === 'taken') throw new AppError('REVIEW_NOT_PENDING');
      // The certificate template of the version that decided the filing.
      const matter = (await catalog.getVersion(app.matter, app.receipt.rulesetVersion)) ?? current;
      const { fields, withFields, holder, subjectKey } = certificateInputs(matter, app.receipt.facts, app.answers, app.form);
      let cert;
      try {
        cert = await issueCertificate(deps.issue, matter, app, holder, subjectKey, withFields, fields, deps.clock(), 'manual');
      } catch (err) {
        await store.authoring.releaseManualDecision(applicationId, 'APPROVE');
        if (err instanceof PermanentFailure && err.code) throw new AppError(err.code);
        throw err;
      }
      const decision: Decision = { outcome: 'APPROVE', reasons: [] };
      const done = await store.authoring.finishManualDecision({
        applicationId,
        status: 'approved',
        decision,
        at,
        audit: {
          at,
          actor: actor.sub,
          dept: actor.dept,
          action: 'application.manual-approve',
          subject: applicationId,
          details: { matter: app.matter, certificate: cert.id, number: cert.number, note, machineReasons: app.decision?.reasons.map((r) => r.rule) ?? [] },
        },
      });
      if (!done && claim !== 'resume') throw new AppError('REVIEW_NOT_PENDING');
      return { id: applicationId, status: 'approved' as const, certificate: { id: cert.id, number: cert.number } };
    },

    async manualReject(actor: Actor, applicationId: string, reason: string) {
      const app = await store.applications.get(applicationId);
      const current = app ? catalog.get(app.matter) : undefined;
      if (!app || !current || current.def.department.code !== actor.dept) throw new AppError('APPLICATION_NOT_FOUND');
      if (app.status !== 'manual_review') throw new AppError('REVIEW_NOT_PENDING');
      const at = now();
      const claim = await store.authoring.claimManualDecision({ applicationId, outcome: 'REJECT', reason, by: actor.sub, dept: actor.dept, at });
      if (claim === 'taken') throw new AppError('REVIEW_NOT_PENDING');
      const decision: Decision = { outcome: 'REJECT', reasons: [{ rule: 'manual-review', message: reason, basis: '人工审核 manual review', result: 'FAIL' }] };
      const done = await store.authoring.finishManualDecision({
        applicationId,
        status: 'rejected',
        decision,
        at,
        audit: {
          at,
          actor: actor.sub,
          dept: actor.dept,
          action: 'application.manual-reject',
          subject: applicationId,
          details: { matter: app.matter, reason, machineReasons: app.decision?.reasons.map((r) => r.rule) ?? [] },
        },
      });
      if (!done) throw new AppError('REVIEW_NOT_PENDING');
      return { id: applicationId, status: 'rejected' as const, decision };
    },

    async auditLog(actor: Actor, limit: number, afterSeq?: number): Promise<AuditEntry[]> {
      return store.authoring.audit.list({ dept: actor.dept, limit, ...(afterSeq === undefined ? {} : { afterSeq }) });
    },
  };
}
