/** The public catalog: GET /v1/matters, GET /v1/matters/{code}. */
import { Type } from 'typebox';
import type { LoadedMatter } from '../../catalog/load-catalog.js';
import { isZeroMaterials, zeroMaterialSituations } from '../../catalog/zero-materials.js';
import { AppError } from '../../errors.js';
import { ErrorResponse } from '../schemas.js';
import type { HttpDeps, TypeBoxApp } from '../types.js';

function summary(m: LoadedMatter) {
  const d = m.def;
  // 零材料 (issue 16): no situation needs an upload; the portal labels such matters.
  return { code: d.code, name: d.name, kind: d.kind, department: d.department, applicantTypes: d.applicantTypes, autoApprove: d.autoApprove, zeroMaterials: isZeroMaterials(d), version: m.version };
}

/** The public definition of a matter: what GET /v1/matters/{code} serves, and what peer nodes check filings against. */
export function matterView(m: LoadedMatter) {
  const d = m.def;
  return {
    ...summary(m),
    zeroMaterialSituations: zeroMaterialSituations(d),
    legalBasis: d.legalBasis,
    nationalCodes: d.nationalCodes,
    applicantTypes: d.applicantTypes,
    consent: d.consent,
    questions: d.questions,
    situations: d.situations,
    materials: d.materials,
    lookups: d.lookups.map((l) => ({ id: l.id, source: l.source })),
    fields: d.fields,
    formSchema: d.form,
    rules: d.rules.map((r) => ({ id: r.id, message: r.message, basis: r.basis, onFail: r.onFail, situations: r.situations ?? null })),
    output: { form: d.output.form, certificate: { title: d.output.certificate.title, validity: d.output.certificate.validity } },
  };
}

export { summary as matterSummary };

export function matterRoutes(app: TypeBoxApp, deps: HttpDeps): void {
  app.get('/v1/matters', { schema: { summary: '事项目录 Matters', description: 'Each matter’s form schema: GET /v1/matters/{code}/schema.', tags: ['catalog'] } }, async () => ({
    matters: [...deps.catalog.matters.values()].map(summary),
  }));

  app.get(
    '/v1/matters/:code/schema',
    {
      schema: {
        summary: '申请表结构 The JSON Schema of a matter’s form (what `form` in POST /v1/applications must satisfy)',
        tags: ['catalog'],
        params: Type.Object({ code: Type.String({ maxLength: 64 }) }),
        // Documented as the JSON Schema it is; sent already serialised (for its own content type), hence a string to the compiler.
        response: { 200: Type.Unsafe<string>(Type.Object({}, { additionalProperties: true, description: '该事项 form 的 JSON Schema (draft 2020-12 subset) The form’s JSON Schema' })), 404: ErrorResponse },
      },
    },
    async (request, reply) => {
      const { code } = request.params;
      const m = deps.catalog.get(code);
      if (!m) throw new AppError('MATTER_NOT_FOUND');
      return reply.type('application/schema+json; charset=utf-8').send(JSON.stringify(m.def.form));
    },
  );

  app.get(
    '/v1/matters/:code',
    { schema: { summary: '事项定义 The public definition of a matter', tags: ['catalog'], params: Type.Object({ code: Type.String({ maxLength: 64 }) }), response: { 200: Type.Unknown(), 404: ErrorResponse } } },
    async (request) => {
      const { code } = request.params;
      const m = deps.catalog.get(code);
      if (!m) throw new AppError('MATTER_NOT_FOUND');
      return matterView(m);
    },
  );
}
