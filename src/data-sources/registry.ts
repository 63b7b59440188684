import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { isMap, isScalar, parseDocument } from 'yaml';
import { createFixtureSource } from './fixture.js';
import { isJsonObject } from './hash.js';
import { createHttpSource } from './http.js';
import { recordProblem, type RecordShape } from './record-shape.js';
import { withResilience } from './resilient.js';
import type { DataSource } from './types.js';

/** What a source's key is (drives intake validation and audit display). */
export type SourceKeyType = 'uscc' | 'id-number' | 'uscc-or-id-number' | 'real-estate-cert-no' | 'project-code';

/** The key types accepted in `rules/data-sources.yaml`. */
export const SOURCE_KEY_TYPES: readonly SourceKeyType[] = ['uscc', 'id-number', 'uscc-or-id-number', 'real-estate-cert-no', 'project-code'];

/** One registered data source (数源), as declared in `rules/data-sources.yaml`. */
export interface SourceDefinition {
  id: string;
  /** 数源名称. */
  name: string;
  /** Owning authority (数源责任单位). */
  owner: string;
  keyType: SourceKeyType;
  timeoutMs: number;
  /** How long a found/not_found answer may be reused; absent = do not cache. */
  cacheTtlSeconds?: number;
  /** What every record of the source looks like (a 200 without it is UNKNOWN, never the record). */
  record?: RecordShape;
}

/** One problem found in a rules file: `path` is inside the file, e.g. `sources[2].timeoutMs`. */
export interface RulesFileIssue {
  path: string;
  message: string;
}

/** A rules/demo-data file that cannot be used. The message names the file and every path at fault. */
export class SourceRegistryError extends Error {
  override readonly name = 'SourceRegistryError';
  constructor(
    readonly file: string,
    readonly issues: RulesFileIssue[],
  ) {
    super(`${file}: ${issues.map((i) => (i.path ? `${i.path}: ${i.message}` : i.message)).join('; ')}`);
  }
}

/** File name of the registry inside the rules folder. */
export const REGISTRY_FILE = 'data-sources.yaml';
const ID_PATTERN = /^[a-z][a-z0-9]*(-[a-z0-9]+)*$/;
const SOURCE_KEYS = new Set(['id', 'name', 'owner', 'keyType', 'timeoutMs', 'cacheTtlSeconds', 'record']);
const RECORD_KEYS = new Set(['keyProperty', 'required']);
const PROPERTY = /^[A-Za-z_][A-Za-z0-9_]*$/;
const MAX_TIMEOUT_MS = 60_000;

/**
 * Reads and strictly validates `<rulesDir>/data-sources.yaml` (unknown properties, duplicate ids and bad
 * values are errors), so a typo fails start-up instead of silently disabling a source.
 * @throws SourceRegistryError naming the file and the path of every problem; I/O errors as thrown by fs.
 */
export function loadSourceRegistry(rulesDir: string): SourceDefinition[] {
  const file = join(rulesDir, REGISTRY_FILE);
  const data = parseYamlFile(file);
  const issues: RulesFileIssue[] = [];
  const bad = (path: string, message: string): void => void issues.push({ path, message });

  if (!isJsonObject(data)) throw new SourceRegistryError(file, [{ path: '', message: 'must be a mapping with version and sources' }]);
  for (const k of Object.keys(data)) if (k !== 'version' && k !== 'sources') bad(k, 'unknown property');
  if (data['version'] !== 1) bad('version', 'must be 1');
  const list = data['sources'];
  if (!Array.isArray(list) || list.length === 0) {
    bad('sources', 'must be a non-empty list');
    throw new SourceRegistryError(file, issues);
  }

  const result: SourceDefinition[] = [];
  const seen = new Set<string>();
  list.forEach((entry: unknown, i) => {
    const at = `sources[${i}]`;
    if (!isJsonObject(entry)) return bad(at, 'must be a mapping');
    for (const k of Object.keys(entry)) if (!SOURCE_KEYS.has(k)) bad(`${at}.${k}`, 'unknown property');
    const { id, name, owner, keyType, timeoutMs, cacheTtlSeconds, record } = entry;
    if (typeof id !== 'string' || !ID_PATTERN.test(id)) bad(`${at}.id`, 'must be a lower-case kebab-case string');
    else if (seen.has(id)) bad(`${at}.id`, `duplicate id ${JSON.stringify(id)}`);
    else seen.add(id);
    if (typeof name !== 'string' || name.trim() === '') bad(`${at}.name`, 'must be a non-empty string');
    if (typeof owner !== 'string' || owner.trim() === '') bad(`${at}.owner`, 'must be a non-empty string');
    if (typeof keyType !== 'string' || !(SOURCE_KEY_TYPES as readonly string[]).includes(keyType)) {
      bad(`${at}.keyType`, `must be one of ${SOURCE_KEY_TYPES.join(', ')}`);
    }
    if (!Number.isInteger(timeoutMs) || (timeoutMs as number) < 1 || (timeoutMs as number) > MAX_TIMEOUT_MS) {
      bad(`${at}.timeoutMs`, `must be an integer from 1 to ${MAX_TIMEOUT_MS}`);
    }
    if (cacheTtlSeconds !== undefined && (!Number.isInteger(cacheTtlSeconds) || (cacheTtlSeconds as number) < 0)) {
      bad(`${at}.cacheTtlSeconds`, 'must be an integer ≥ 0');
    }
    const def: SourceDefinition = {
      id: id as string,
      name: name as string,
      owner: owner as string,
      keyType: keyType as SourceKeyType,
      timeoutMs: timeoutMs as number,
    };
    if (cacheTtlSeconds !== undefined) def.cacheTtlSeconds = cacheTtlSeconds as number;
    if (record !== undefined) {
      if (!isJsonObject(record)) bad(`${at}.record`, 'must be a mapping with keyProperty and/or required');
      else {
        for (const k of Object.keys(record)) if (!RECORD_KEYS.has(k)) bad(`${at}.record.${k}`, 'unknown property');
        const shape: RecordShape = {};
        const { keyProperty, required } = record;
        if (keyProperty !== undefined) {
          if (typeof keyProperty !== 'string' || !PROPERTY.test(keyProperty)) bad(`${at}.record.keyProperty`, 'must be a property name');
          else shape.keyProperty = keyProperty;
        }
        if (required !== undefined) {
          if (!Array.isArray(required) || required.length === 0 || !required.every((p) => typeof p === 'string' && PROPERTY.test(p))) {
            bad(`${at}.record.required`, 'must be a non-empty list of property names');
          } else shape.required = required as string[];
        }
        def.record = shape;
      }
    }
    result.push(def);
  });
  if (issues.length > 0) throw new SourceRegistryError(file, issues);
  return result;
}

/** Env variable carrying the base URL of source `id`: `market-entity` → `DATASOURCE_MARKET_ENTITY_URL`. */
export function envNameFor(id: string): string {
  return `DATASOURCE_${id.toUpperCase().replace(/-/g, '_')}_URL`;
}

/**
 * Picks each registered source's URL out of an environment map (the caller passes the process environment: this module
 * never reads it). Empty values count as unset, because `FOO=` in a compose file means "not configured".
 */
export function sourceUrlsFromEnv(
  registry: readonly SourceDefinition[],
  env: Readonly<Record<string, string | undefined>>,
): Record<string, string | undefined> {
  const urls: Record<string, string | undefined> = {};
  for (const s of registry) {
    const v = env[envNameFor(s.id)]?.trim();
    if (v) urls[s.id] = v;
  }
  return urls;
}

/** Path of the demo records of source `id`. */
export function demoDataFile(rulesDir: string, id: string): string {
  return join(rulesDir, 'demo-data', `${id}.yaml`);
}

/**
 * Loads `<rulesDir>/demo-data/<id>.yaml`: a mapping key → record (object). Keys must be YAML strings and no
 * value may be an integer beyond 2^53: both mean an unquoted ID number or code that YAML read as a number
 * and silently rounded.
 * @throws SourceRegistryError naming the file and path; I/O errors (e.g. ENOENT) as thrown by fs.
 */
export function loadDemoRecords(rulesDir: string, id: string): Record<string, Record<string, unknown>> {
  const file = demoDataFile(rulesDir, id);
  const text = readFileSync(file, 'utf8');
  const doc = parseDocument(text, { uniqueKeys: true });
  throwOnYamlErrors(file, doc.errors);
  const issues: RulesFileIssue[] = [];
  if (doc.contents !== null && !isMap(doc.contents)) {
    throw new SourceRegistryError(file, [{ path: '', message: 'must be a mapping key → record' }]);
  }
  for (const pair of doc.contents?.items ?? []) {
    if (!isScalar(pair.key) || typeof pair.key.value !== 'string') {
      issues.push({ path: String(isScalar(pair.key) ? pair.key.value : pair.key), message: 'key must be a (quoted) string' });
    }
  }
  const data: unknown = doc.toJS() ?? {};
  const records: Record<string, Record<string, unknown>> = {};
  if (isJsonObject(data)) {
    for (const [key, record] of Object.entries(data)) {
      const at = JSON.stringify(key);
      if (!isJsonObject(record)) {
        issues.push({ path: at, message: 'record must be a mapping' });
        continue;
      }
      findUnsafeNumbers(record, at, issues);
      records[key] = record;
    }
  }
  if (issues.length > 0) throw new SourceRegistryError(file, issues);
  return records;
}

/** Options of {@link createDataSources}. */
export interface CreateDataSourcesOptions {
  registry: readonly SourceDefinition[];
  /** Base URL by source id (see {@link sourceUrlsFromEnv}); absent/empty → fixture backend. */
  urls: Readonly<Record<string, string | undefined>>;
  /** The rules folder, holding `demo-data/<id>.yaml`. */
  rulesDir: string;
  /** Clock for `fetchedAt` (tests). */
  now?: () => Date;
  /**
   * Retries (HTTP GETs), circuit breaker and cache around every source. Absent: bare backends (unit tests).
   * `cacheMaxTtlSeconds` caps the registry's `cacheTtlSeconds` (0 turns caching off; null keeps the registry's).
   */
  resilience?: { retries: number; failureThreshold: number; openMs: number; cacheMaxTtlSeconds: number | null };
}

/**
 * One adapter per registered source: HTTP when a URL is given for it, else the fixture backend over its demo
 * records. Misconfiguration throws at start-up rather than degrading every read to UNKNOWN.
 * @throws Error naming unknown ids in `urls` (with their env names), or a source whose URL is invalid;
 *         SourceRegistryError / fs errors when a needed demo-data file is bad or missing.
 */
export function createDataSources(options: CreateDataSourcesOptions): Map<string, DataSource> {
  const { registry, urls, rulesDir, now } = options;
  const known = new Set(registry.map((s) => s.id));
  const unknownIds = Object.keys(urls).filter((id) => !known.has(id));
  if (unknownIds.length > 0) {
    throw new Error(
      `URLs given for unregistered data sources: ${unknownIds.map((id) => `${id} (${envNameFor(id)})`).join(', ')}; ` +
        `registered: ${[...known].join(', ')}`,
    );
  }
  const sources = new Map<string, DataSource>();
  for (const def of registry) {
    const url = urls[def.id]?.trim();
    if (url) {
      try {
        const retries = options.resilience?.retries ?? 0;
        sources.set(
          def.id,
          createHttpSource({ id: def.id, baseUrl: url, timeoutMs: def.timeoutMs, retries, ...(def.record ? { record: def.record } : {}), ...(now ? { now } : {}) }),
        );
      } catch (err) {
        throw new Error(`${envNameFor(def.id)}: invalid base URL for data source ${def.id}: ${(err as Error).message}`);
      }
    } else {
      const records = loadDemoRecords(rulesDir, def.id);
      if (def.record) {
        // Demo records must look like what the HTTP backend accepts, or the embedded default would approve on
        // data that production would call UNKNOWN.
        const issues = Object.entries(records).flatMap(([key, rec]) => {
          const problem = recordProblem(rec, key, def.record!);
          return problem === null ? [] : [{ path: JSON.stringify(key), message: problem }];
        });
        if (issues.length > 0) throw new SourceRegistryError(demoDataFile(rulesDir, def.id), issues);
      }
      sources.set(def.id, createFixtureSource({ id: def.id, records, ...(now ? { now } : {}) }));
    }
    const r = options.resilience;
    if (r) {
      const cap = r.cacheMaxTtlSeconds;
      const ttl = def.cacheTtlSeconds === undefined ? 0 : cap === null ? def.cacheTtlSeconds : Math.min(cap, def.cacheTtlSeconds);
      sources.set(def.id, withResilience(sources.get(def.id)!, { failureThreshold: r.failureThreshold, openMs: r.openMs, cacheTtlSeconds: ttl, ...(now ? { now } : {}) }));
    }
  }
  return sources;
}

function parseYamlFile(file: string): unknown {
  const doc = parseDocument(readFileSync(file, 'utf8'), { uniqueKeys: true });
  throwOnYamlErrors(file, doc.errors);
  return doc.toJS();
}

function throwOnYamlErrors(file: string, errors: ReadonlyArray<{ message: string; linePos?: [{ line: number; col: number }, ...unknown[]] }>): void {
  if (errors.length === 0) return;
  throw new SourceRegistryError(
    file,
    errors.map((e) => ({ path: e.linePos ? `line ${e.linePos[0].line}:${e.linePos[0].col}` : '', message: e.message.split('\n')[0] ?? e.message })),
  );
}

function findUnsafeNumbers(value: unknown, at: string, issues: RulesFileIssue[]): void {
  if (typeof value === 'number' && Number.isInteger(value) && !Number.isSafeInteger(value)) {
    issues.push({ path: at, message: 'integer too large to be exact: quote codes and ID numbers' });
  } else if (Array.isArray(value)) {
    value.forEach((v, i) => findUnsafeNumbers(v, `${at}[${i}]`, issues));
  } else if (isJsonObject(value)) {
    for (const [k, v] of Object.entries(value)) findUnsafeNumbers(v, `${at}.${k}`, issues);
  }
}
