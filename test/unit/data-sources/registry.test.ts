import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import {
  createDataSources,
  envNameFor,
  loadDemoRecords,
  loadSourceRegistry,
  SourceRegistryError,
  sourceUrlsFromEnv,
} from '../../../src/data-sources/registry.js';
import { RULES_DIR } from '../../support/datasource-server.js';

const ctx = { requester: 'test', applicationId: null, purpose: 'unit test' };
const dirs: string[] = [];
function tempRules(registryYaml: string, demo: Record<string, string> = {}): string {
  const dir = mkdtempSync(join(tmpdir(), 'ds-registry-'));
  dirs.push(dir);
  writeFileSync(join(dir, 'data-sources.yaml'), registryYaml);
  mkdirSync(join(dir, 'demo-data'));
  for (const [id, text] of Object.entries(demo)) writeFileSync(join(dir, 'demo-data', `${id}.yaml`), text);
  return dir;
}
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

const ONE_SOURCE = `version: 1
sources:
  - id: market-entity
    name: 市场主体登记信息库
    owner: 市场监管局
    keyType: uscc
    timeoutMs: 1500
`;

describe('envNameFor', () => {
  it('upper-cases the id and maps - to _', () => {
    expect(envNameFor('market-entity')).toBe('DATASOURCE_MARKET_ENTITY_URL');
    expect(envNameFor('special-equipment')).toBe('DATASOURCE_SPECIAL_EQUIPMENT_URL');
    expect(envNameFor('e-license')).toBe('DATASOURCE_E_LICENSE_URL');
    expect(envNameFor('population')).toBe('DATASOURCE_POPULATION_URL');
  });
});

describe('loadSourceRegistry', () => {
  it('loads the six reference sources of DESIGN.md §4 (first) and the five matters\' other sources from rules/', () => {
    const reg = loadSourceRegistry(RULES_DIR);
    expect(reg.map((s) => s.id).slice(0, 6)).toEqual(['market-entity', 'population', 'credit', 'real-estate', 'e-license', 'special-equipment']);
    for (const s of reg) {
      expect(s.name).not.toBe('');
      expect(s.owner).not.toBe('');
      expect(s.timeoutMs).toBeGreaterThan(0);
    }
    expect(reg.find((s) => s.id === 'population')?.keyType).toBe('id-number');
  });

  it('names the file and the path of a bad value', () => {
    const dir = tempRules(ONE_SOURCE.replace('timeoutMs: 1500', 'timeoutMs: fast'));
    expect(() => loadSourceRegistry(dir)).toThrow(SourceRegistryError);
    try {
      loadSourceRegistry(dir);
    } catch (err) {
      const e = err as SourceRegistryError;
      expect(e.file).toBe(join(dir, 'data-sources.yaml'));
      expect(e.message).toContain(join(dir, 'data-sources.yaml'));
      expect(e.message).toContain('sources[0].timeoutMs');
      expect(e.issues).toEqual([{ path: 'sources[0].timeoutMs', message: expect.any(String) }]);
    }
  });

  it('rejects unknown properties, bad key types, duplicate ids and missing fields, all at once', () => {
    const dir = tempRules(`version: 1
sources:
  - id: market-entity
    name: A
    owner: B
    keyType: uscc
    timeoutMs: 100
    url: http://example
  - id: market-entity
    name: A
    owner: B
    keyType: phone
    timeoutMs: 100
  - id: Bad_Id
    owner: B
    keyType: uscc
    timeoutMs: 100
    cacheTtlSeconds: -1
`);
    let message = '';
    try {
      loadSourceRegistry(dir);
    } catch (err) {
      message = (err as Error).message;
    }
    expect(message).toContain('data-sources.yaml');
    for (const path of ['sources[0].url', 'sources[1].id', 'sources[1].keyType', 'sources[2].id', 'sources[2].name', 'sources[2].cacheTtlSeconds']) {
      expect(message).toContain(path);
    }
  });

  it('rejects a wrong top-level shape and YAML syntax errors, naming the file', () => {
    expect(() => loadSourceRegistry(tempRules('- a\n- b\n'))).toThrow(/data-sources\.yaml/);
    expect(() => loadSourceRegistry(tempRules('version: 1\nsources: []\n'))).toThrow(/data-sources\.yaml: sources: must be a non-empty list/);
    expect(() => loadSourceRegistry(tempRules('version: 1\nsources: [\n'))).toThrow(/data-sources\.yaml: line \d+/);
    expect(() => loadSourceRegistry(tempRules(`${ONE_SOURCE}extra: 1\n`))).toThrow(/data-sources\.yaml: extra: unknown property/);
  });
});

describe('loadDemoRecords', () => {
  it('rejects unquoted numeric keys and numbers too large to be exact', () => {
    const dir = tempRules(ONE_SOURCE, {
      'market-entity': '210102199001011237:\n  name: 张伟\n"k":\n  idNumber: 210102199001011237\n',
    });
    let message = '';
    try {
      loadDemoRecords(dir, 'market-entity');
    } catch (err) {
      message = (err as Error).message;
    }
    expect(message).toContain(join('demo-data', 'market-entity.yaml'));
    expect(message).toContain('key must be a (quoted) string');
    expect(message).toContain('"k".idNumber');
  });

  it('rejects a record that is not a mapping', () => {
    const dir = tempRules(ONE_SOURCE, { 'market-entity': '"a": 1\n' });
    expect(() => loadDemoRecords(dir, 'market-entity')).toThrow(/market-entity\.yaml: "a": record must be a mapping/);
  });
});

describe('createDataSources', () => {
  const registry = loadSourceRegistry(RULES_DIR);

  it('uses fixtures by default and HTTP where a URL is given', async () => {
    const sources = createDataSources({ registry, urls: { population: 'http://127.0.0.1:9/population' }, rulesDir: RULES_DIR });
    expect([...sources.keys()]).toEqual(registry.map((s) => s.id));
    expect(sources.get('population')?.backend).toBe('http');
    expect(sources.get('market-entity')?.backend).toBe('fixture');
    const read = await sources.get('market-entity')?.read('91210100MA0Q1A2B6L', ctx);
    expect(read?.status).toBe('found');
    expect(read?.record?.['name']).toBe('沈阳丰禾粮食购销有限公司');
  });

  it('treats empty URLs as unset', () => {
    const sources = createDataSources({ registry, urls: { population: '' }, rulesDir: RULES_DIR });
    expect(sources.get('population')?.backend).toBe('fixture');
  });

  it('throws naming unknown ids in urls', () => {
    expect(() =>
      createDataSources({ registry, urls: { 'market-entity': 'http://x', 'tax-bureau': 'http://y', bogus: undefined }, rulesDir: RULES_DIR }),
    ).toThrow(/tax-bureau \(DATASOURCE_TAX_BUREAU_URL\), bogus/);
  });

  it('throws naming the env variable of an invalid URL', () => {
    expect(() => createDataSources({ registry, urls: { credit: 'not a url' }, rulesDir: RULES_DIR })).toThrow(/DATASOURCE_CREDIT_URL/);
    expect(() => createDataSources({ registry, urls: { credit: 'ftp://host/x' }, rulesDir: RULES_DIR })).toThrow(/DATASOURCE_CREDIT_URL/);
  });

  it('fails when a fixture source has no demo data', () => {
    const dir = tempRules(ONE_SOURCE);
    expect(() => createDataSources({ registry: loadSourceRegistry(dir), urls: {}, rulesDir: dir })).toThrow(/market-entity\.yaml/);
  });

  it('sourceUrlsFromEnv picks DATASOURCE_<ID>_URL, ignoring blanks and unrelated variables', () => {
    expect(
      sourceUrlsFromEnv(registry, {
        DATASOURCE_MARKET_ENTITY_URL: 'http://gw/market-entity',
        DATASOURCE_CREDIT_URL: '  ',
        DATASOURCE_OTHER_URL: 'http://gw/other',
      }),
    ).toEqual({ 'market-entity': 'http://gw/market-entity' });
  });
});
