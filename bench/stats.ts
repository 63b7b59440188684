/** Small statistics and timing helpers. */
import os from 'node:os';
import { performance } from 'node:perf_hooks';

export interface Summary {
  n: number;
  p50: number;
  p95: number;
  p99: number;
  max: number;
  mean: number;
}

/** Nearest-rank percentile of an ascending array (NaN when empty). */
export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank - 1))]!;
}

export function summarize(values: number[]): Summary {
  const s = [...values].sort((a, b) => a - b);
  const mean = s.length === 0 ? NaN : s.reduce((x, y) => x + y, 0) / s.length;
  return { n: s.length, p50: percentile(s, 50), p95: percentile(s, 95), p99: percentile(s, 99), max: s.at(-1) ?? NaN, mean };
}

export const now = (): number => performance.now();

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Rounds for printing/JSON; NaN and ±Infinity become null in JSON anyway, keep them visible as NaN here. */
export function round(v: number, digits = 1): number {
  const f = 10 ** digits;
  return Math.round(v * f) / f;
}

export function fmt(v: number, digits = 1): string {
  return Number.isFinite(v) ? round(v, digits).toFixed(digits) : '—';
}

export interface MachineShare {
  cores: number;
  /** How busy the machine's cores were over the step, % of all of them. */
  busyPct: number;
  /** CPU ms the whole machine (every process, the load generator and the kernel included) spent per unit. */
  msPerUnit: number;
  /** The rate that CPU cost allows when every core does nothing else: cores × 1000 / msPerUnit. */
  ceiling: number;
}

/**
 * The whole machine over a step (two machineCpuMs() readings) per unit of work done in it. On a machine that is
 * nearly all busy, `ceiling` is close to the rate measured: more speed needs less CPU per unit or more cores.
 */
export function machineShare(a: { busy: number; all: number }, b: { busy: number; all: number }, units: number, cores = os.cpus().length): MachineShare {
  const busy = b.busy - a.busy;
  const msPerUnit = busy / Math.max(1, units);
  return { cores, busyPct: (100 * busy) / (b.all - a.all), msPerUnit, ceiling: (cores * 1000) / msPerUnit };
}

export function machineNote(m: MachineShare, unit: string): string {
  return `machine ${fmt(m.busyPct, 0)} % busy (${m.cores} cores), ${fmt(m.msPerUnit, 2)} ms of its CPU per ${unit} → ≈ ${fmt(m.ceiling, 0)}/s at most on its cores`;
}
