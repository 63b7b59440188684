import { Type, type TSchemaOptions } from 'typebox';

export const ErrorResponse = Type.Object(
  {
    code: Type.String({ description: '错误码，见 /docs 的错误码表 Error code (see the table in /docs); public API, never renamed' }),
    message: Type.String({ description: '说明：先中文后英文 What went wrong and what to fix, Chinese then English' }),
    requestId: Type.String({ description: '请求编号，联系运维时提供 Request id to quote when asking for help' }),
    errors: Type.Optional(Type.Array(Type.Object({ path: Type.String({ description: 'JSON Pointer into the body' }), message: Type.String() }), { description: '逐字段错误 Per-field errors' })),
  },
  {
    title: 'Error',
    examples: [{ code: 'REQUEST_VALIDATION', message: '请求内容不符合要求 The request does not match the schema; see errors[]', requestId: 'req-1a2b', errors: [{ path: '/form/contactPhone', message: '请填写正确的手机号码或固定电话' }] }],
  },
);

/**
 * A JSON object of any members, checked later against a schema known only at run time (a matter's form or
 * questions). TypeBox types `Type.Object({}, {additionalProperties: true})` as `object`; the handlers read its
 * members, so it is typed as a record. The JSON Schema is exactly that open object.
 */
export const OpenObject = (options: TSchemaOptions = {}) => Type.Unsafe<Record<string, unknown>>(Type.Object({}, { additionalProperties: true, ...options }));

/** A 200 that is a file (PDF, OFD): documented as binary of its media type, typed as the Buffer the route sends. */
export const FileResponse = (mediaType: string) => ({ content: { [mediaType]: { schema: Type.Unsafe<Buffer>(Type.String({ format: 'binary' })) } } });
