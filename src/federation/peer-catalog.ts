/**
 * Peers' matter definitions, as this node checks filings against them: fetched from the owner (signed), kept in
 * memory for FEDERATION_CATALOG_TTL_SECONDS and in the database for as long as the owner cannot be reached — so a
 * filing for a peer's matter is checked against the owner's own schema even while the owner is down.
 */
import { boundedValidator } from '../catalog/bounded-schema.js';
import { answersValidator, createFormAjv, type AnswersValidator } from '../catalog/load-catalog.js';
import type { MatterDef } from '../catalog/types.js';
import type { ValidateFunction } from 'ajv';
import type { FilingMatter } from '../pipeline/validate-filing.js';
import type { FederationRepository } from '../store/types.js';
import type { PeerClient } from './peer-client.js';
import { PeerUnavailableError } from './peers.js';

/** A peer's matter, ready for intake checks. */
export interface PeerMatter extends FilingMatter {
  city: string;
  code: string;
  version: string;
  name: string;
  kind: string;
  department: { name: string; code: string };
  fetchedAt: string;
  /** The public definition as the owner serves it (GET /v1/matters/{code}). */
  view: Record<string, unknown>;
}

export interface PeerCatalog {
  /** The owner's matter: fresh, or the last copy when the owner is unreachable; null when the owner has no such matter. */
  get(city: string, code: string): Promise<PeerMatter | null>;
  /** Fetches every matter of the peer again (warm-up and periodic refresh); returns how many were stored. */
  refresh(city: string): Promise<number>;
}

function compile(city: string, view: Record<string, unknown>, fetchedAt: string): PeerMatter {
  const str = (k: string) => (typeof view[k] === 'string' ? (view[k]) : '');
  const questions = Array.isArray(view['questions']) ? (view['questions'] as MatterDef['questions']) : [];
  const situations = Array.isArray(view['situations']) ? (view['situations'] as MatterDef['situations']) : [];
  const consent = (view['consent'] ?? { dataSharing: true, sealAuthorization: true, purpose: '' }) as MatterDef['consent'];
  const applicantTypes = (Array.isArray(view['applicantTypes']) ? view['applicantTypes'] : ['organisation', 'person']) as MatterDef['applicantTypes'];
  const department = (view['department'] ?? { name: '', code: '' }) as { name: string; code: string };
  // A fresh ajv per definition: two versions of one form may carry the same $id.
  // Bounds first: a peer's form may be unbounded, and the body must still not cost more than its limits allow.
  const formSchema = view['formSchema'] ?? {};
  const validateForm: ValidateFunction = boundedValidator(formSchema, createFormAjv().compile(formSchema));
  const validateAnswers: AnswersValidator = answersValidator(questions);
  return {
    city,
    code: str('code'),
    version: str('version'),
    name: str('name'),
    kind: str('kind'),
    department,
    fetchedAt,
    view,
    def: { consent, applicantTypes, questions, situations },
    validateForm,
    validateAnswers,
  };
}

export function createPeerCatalog(opts: {
  client: PeerClient;
  store: Pick<FederationRepository, 'getMatter' | 'putMatter'>;
  ttlSeconds: number;
  clock: () => Date;
}): PeerCatalog {
  const memory = new Map<string, PeerMatter>();
  const key = (city: string, code: string) => `${city}\u0000${code}`;

  async function store(city: string, view: Record<string, unknown>): Promise<PeerMatter> {
    const fetchedAt = opts.clock().toISOString();
    const m = compile(city, view, fetchedAt);
    await opts.store.putMatter({ city, code: m.code, version: m.version, definition: JSON.stringify(view), fetchedAt });
    memory.set(key(city, m.code), m);
    return m;
  }

  return {
    async get(city, code) {
      const hit = memory.get(key(city, code));
      const now = opts.clock().getTime();
      if (hit && now - Date.parse(hit.fetchedAt) < opts.ttlSeconds * 1000) return hit;
      try {
        const view = await opts.client.matter(city, code);
        if (view === null) {
          memory.delete(key(city, code));
          return null;
        }
        return await store(city, view);
      } catch (err) {
        if (!(err instanceof PeerUnavailableError)) throw err;
        if (hit) return hit;
        const kept = await opts.store.getMatter(city, code);
        if (!kept) throw err;
        const m = compile(city, JSON.parse(kept.definition) as Record<string, unknown>, kept.fetchedAt);
        memory.set(key(city, code), m);
        return m;
      }
    },

    async refresh(city) {
      const list = await opts.client.matters(city);
      let n = 0;
      for (const s of list) {
        if (typeof s['code'] !== 'string') continue;
        const view = await opts.client.matter(city, s['code']);
        if (view) {
          await store(city, view);
          n++;
        }
      }
      return n;
    },
  };
}
