/** GET /v1/regions (issue 18): the city's county-level divisions (GB/T 2260) for the portal's district picker. */
import { Type } from 'typebox';
import { cityDistricts } from '../../domain/regions.js';
import type { HttpDeps, TypeBoxApp } from '../types.js';

const Regions = Type.Object(
  {
    city: Type.String({ description: '本节点所在城市的 6 位行政区划代码' }),
    regions: Type.Array(Type.Object({ code: Type.String({ description: 'GB/T 2260 区县代码' }), name: Type.String({ description: '区县名称' }) })),
  },
  { description: '可选择的区、县（市）' },
);

export function regionRoutes(app: TypeBoxApp, deps: HttpDeps): void {
  const body = { city: deps.config.federation.cityCode, regions: cityDistricts(deps.config.federation.cityCode) };
  app.get(
    '/v1/regions',
    { schema: { summary: '行政区划 The city’s districts and counties (GB/T 2260), for pickers', tags: ['catalog'], response: { 200: Regions } } },
    async (_request, reply) => reply.header('cache-control', 'public, max-age=3600').send(body),
  );
}
