/**
 * Reads the worker's `--cpu-prof` output and says where its CPU went: self time per function and per area
 * (our modules by folder, libraries by package, V8's own buckets), as milliseconds per approved filing.
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
}
interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
  startTime: number;
  endTime: number;
}

export interface ProfileSummary {
  totalMs: number;
  byArea: Array<{ area: string; ms: number }>;
  byFunction: Array<{ fn: string; ms: number }>;
}

/** Which part of the system a frame belongs to. */
function area(url: string, fn: string): string {
  if (!url) return fn.startsWith('(') ? fn : '(native)';
  const nm = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (nm) return nm[1]!;
  const src = /\/(?:dist|src)\/(.+)\/[^/]+\.(?:js|ts)$/.exec(url);
  if (src) return `src/${src[1]}`;
  const top = /\/(?:dist|src)\/([^/]+)\.(?:js|ts)$/.exec(url);
  if (top) return `src/${top[1]}`;
  if (url.startsWith('node:')) return url.replace(/^node:(internal\/)?/, 'node:').split('/').slice(0, 2).join('/');
  return path.basename(url);
}

export function summarizeProfiles(dir: string, top = 15): ProfileSummary | null {
  let files: string[];
  try {
    files = readdirSync(dir).filter((f) => f.endsWith('.cpuprofile'));
  } catch {
    return null;
  }
  if (files.length === 0) return null;
  const areas = new Map<string, number>();
  const fns = new Map<string, number>();
  let total = 0;
  for (const f of files) {
    const p = JSON.parse(readFileSync(path.join(dir, f), 'utf8')) as CpuProfile;
    const byId = new Map(p.nodes.map((n) => [n.id, n]));
    // Self time per sample: the delta to the next sample is the time spent in the sampled frame.
    for (let i = 0; i < p.samples.length; i++) {
      const n = byId.get(p.samples[i]!);
      const dt = (p.timeDeltas[i + 1] ?? 0) / 1000;
      if (!n || dt <= 0) continue;
      if (n.callFrame.functionName === '(idle)') continue;
      total += dt;
      const a = area(n.callFrame.url, n.callFrame.functionName);
      areas.set(a, (areas.get(a) ?? 0) + dt);
      const name = `${n.callFrame.functionName || '(anonymous)'} ${n.callFrame.url ? `${path.basename(n.callFrame.url)}:${n.callFrame.lineNumber + 1}` : ''}`.trim();
      fns.set(name, (fns.get(name) ?? 0) + dt);
    }
  }
  const sort = (m: Map<string, number>) => [...m.entries()].sort((a, b) => b[1] - a[1]);
  return {
    totalMs: total,
    byArea: sort(areas).slice(0, top).map(([a, ms]) => ({ area: a, ms })),
    byFunction: sort(fns).slice(0, top).map(([fn, ms]) => ({ fn, ms })),
  };
}
