/**
 * The catalog as a versioned registry backed by the database (issue 6). `get(code)` answers the matter's current
 * version; `getVersion(code, version)` any version ever published (to re-run a stored receipt, or to issue a
 * certificate with the template that decided). A short poll of a generation counter picks up versions published
 * by another process (API or worker) without a restart; the publishing process refreshes at once.
 * The `Catalog` interface is kept: `matters` is the same Map object, updated in place.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { Ajv } from 'ajv';
import { CatalogError, canonicalJson, checkMatter, createFormAjv, type Catalog, type LoadedMatter } from './load-catalog.js';

/** Parses and checks one definition (YAML or JSON text) with the loader's checks; problems are prefixed by `label`. */
export type MatterChecker = (text: string, label: string) => { matter?: LoadedMatter; problems: string[] };

export function createMatterChecker(rulesDir: string, sourceIds: ReadonlySet<string>): MatterChecker {
  const schemaAjv = new Ajv({ allErrors: true, strict: false });
  const schemaValidator = schemaAjv.compile(JSON.parse(readFileSync(path.join(rulesDir, 'schema', 'matter.schema.json'), 'utf8')) as object);
  // A fresh form ajv per definition: two versions of one form may carry the same $id.
  return (text, label) => checkMatter(text, label, { sourceIds, schemaValidator, formAjv: createFormAjv(), rulesDir });
}

/** sha256 of the canonical JSON of a definition: the version. */
export function versionOf(def: unknown): string {
  return createHash('sha256').update(canonicalJson(def)).digest('hex');
}

/**
 * A version stored before the template's bytes were part of it (issue 18): its definition names a template without
 * a sha256 and hashes, as stored, to its name. It keeps that name and claims no template digest (none was recorded);
 * null for anything else.
 */
function legacyTemplateVersion(stored: string, checked: LoadedMatter, version: string): LoadedMatter | null {
  const def = JSON.parse(stored) as LoadedMatter['def'];
  const template = def.output?.form?.template;
  if (!template || template.sha256 !== undefined || versionOf(def) !== version) return null;
  const { sha256: _recordedNow, ...asStored } = checked.def.output.form.template!;
  return { ...checked, version, def: { ...checked.def, output: { ...checked.def.output, form: { ...checked.def.output.form, template: asStored } } } };
}

/** Where versions live (the store's authoring repository satisfies it). */
export interface MatterVersionSource {
  generation(): Promise<number>;
  currentVersions(): Promise<Array<{ matter: string; version: string }>>;
  /** `source` is the text as authored (YAML keeps the author's field order; the canonical JSON sorts keys). */
  getVersion(matter: string, version: string): Promise<{ definition: string; source?: string } | null>;
}

export interface VersionedCatalog extends Catalog {
  /** Any stored version of a matter, compiled (cached); undefined when unknown or no longer valid. */
  getVersion(code: string, version: string): Promise<LoadedMatter | undefined>;
  /** Reloads the current versions when the generation changed (always with `force`); true when anything changed. */
  refresh(opts?: { force?: boolean }): Promise<boolean>;
  readonly check: MatterChecker;
  /** Stops polling. */
  close(): void;
}

export interface OpenCatalogOptions {
  /** The catalog loaded from rules/ (already seeded into the store): reused for versions it holds. */
  files: Catalog;
  store: MatterVersionSource;
  check: MatterChecker;
  /** Poll interval for versions published elsewhere; 0 disables polling. */
  pollMs: number;
  onError?: (err: Error) => void;
}

/** Loads the current versions from the store (throws CatalogError on a stored version that no longer checks). */
export async function openVersionedCatalog(opts: OpenCatalogOptions): Promise<VersionedCatalog> {
  const matters = new Map<string, LoadedMatter>();
  const cache = new Map<string, LoadedMatter>();
  const key = (code: string, version: string) => `${code}\u0000${version}`;
  for (const m of opts.files.matters.values()) cache.set(key(m.def.code, m.version), m);
  let generation = -1;
  let running: Promise<boolean> | null = null;

  async function load(code: string, version: string): Promise<LoadedMatter> {
    const hit = cache.get(key(code, version));
    if (hit) return hit;
    const row = await opts.store.getVersion(code, version);
    if (!row) throw new CatalogError([`${code}@${version}: version not in the database`]);
    // The text as authored first: the public form shows fields in the author's order (issue 18), which the
    // canonical JSON (keys sorted, for the hash) loses. Both hash to the version; the canonical form is the fallback.
    const label = `${code}@${version.slice(0, 12)}`;
    const fromSource = row.source ? opts.check(row.source, label) : null;
    const res = fromSource?.matter && fromSource.matter.version === version ? fromSource : opts.check(row.definition, label);
    if (!res.matter) throw new CatalogError(res.problems);
    let matter = res.matter;
    // The stored text must still hash to its name: a version is immutable.
    if (matter.version !== version) {
      const legacy = legacyTemplateVersion(row.definition, matter, version);
      if (!legacy) throw new CatalogError([`${code}@${version}: stored definition hashes to ${matter.version}`]);
      matter = legacy;
    }
    const loaded: LoadedMatter = { ...matter, file: `${code}@${version}` };
    cache.set(key(code, version), loaded);
    return loaded;
  }

  async function reload(force: boolean): Promise<boolean> {
    const gen = await opts.store.generation();
    if (!force && gen === generation) return false;
    const current = await opts.store.currentVersions();
    const next = new Map<string, LoadedMatter>();
    for (const c of current) next.set(c.matter, await load(c.matter, c.version));
    let changed = false;
    for (const [code, m] of next) {
      if (matters.get(code) !== m) {
        matters.set(code, m);
        changed = true;
      }
    }
    for (const code of [...matters.keys()]) {
      if (!next.has(code)) {
        matters.delete(code);
        changed = true;
      }
    }
    generation = gen;
    return changed;
  }

  const refresh = (o: { force?: boolean } = {}): Promise<boolean> => {
    // One reload at a time; a forced refresh waits for a running poll and then reloads.
    const run = (running ?? Promise.resolve(false)).catch(() => false).then(() => reload(o.force === true));
    running = run;
    return run.finally(() => {
      if (running === run) running = null;
    });
  };

  await refresh({ force: true });
  let timer: NodeJS.Timeout | null = null;
  if (opts.pollMs > 0) {
    timer = setInterval(() => {
      refresh().catch((err: unknown) => opts.onError?.(err instanceof Error ? err : new Error(String(err))));
    }, opts.pollMs);
    timer.unref();
  }

  return {
    matters,
    get: (code) => matters.get(code),
    async getVersion(code, version) {
      try {
        return await load(code, version);
      } catch (err) {
        if (err instanceof CatalogError) return undefined;
        throw err;
      }
    },
    refresh,
    check: opts.check,
    close() {
      if (timer) clearInterval(timer);
      timer = null;
    },
  };
}
