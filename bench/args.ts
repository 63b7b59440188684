import { defaultWorkerProcesses } from '../src/config.js';
/** Command-line flags of the benchmark (`npm run bench -- --db postgres --rate 50`). */
export interface BenchArgs {
  /** `single` (one API, N workers, its own redis-server) or `cluster` (src/cluster/: PostgreSQL, Sentinel, 1→2 APIs and workers). */
  topology: 'single' | 'cluster';
  db: 'sqlite' | 'postgres';
  /** Filings per second offered in the open-loop latency phase (distinct enterprises). */
  rate: number;
  /** Length of the latency phase. */
  seconds: number;
  /** Filings in the throughput burst (distinct enterprises; the same count again from one enterprise). */
  burst: number;
  /** Throughput bursts of distinct enterprises; their medians are the figures (3, --quick 1). */
  bursts: number;
  /** Send an Idempotency-Key with every filing, as the portal does (default); --no-idempotency-keys to compare. */
  idempotencyKeys: boolean;
  /** Filings in the long run that watches RSS (0 = skip). */
  soak: number;
  /** Worker processes; default as the service with WORKER_PROCESSES unset (src/config.ts: 1 on SQLite, one per core up to 4 on PostgreSQL). */
  workers: number;
  /** PDF render threads per worker process; null → the service default (RENDER_THREADS unset). */
  renderThreads: number | null;
  /** Jobs per worker process; null → the service default (WORKER_CONCURRENCY). */
  concurrency: number | null;
  /** --cpu-prof on the worker(s) and a summary of where the CPU went. */
  profile: boolean;
  micro: boolean;
  quick: boolean;
  microIterations: number;
  rulesMs: number;
  /**
   * Filings (distinct enterprises) before anything is measured. 2,000: with 300, V8 was still optimising during the
   * measured burst (`--trace-opt`: ~200 functions optimised in it, half as many in the repeated burst after it) and
   * each of two worker processes saw only half of the warm-up.
   */
  warmup: number;
}

const USAGE =
  'usage: npm run bench -- [catalog|templates|intake] [--topology single|cluster] [--db sqlite|postgres] [--rate N] [--seconds S] [--burst N] [--bursts N] [--soak N] [--warmup N] [--workers N] [--render-threads N] [--concurrency N] [--profile] [--no-micro] [--no-idempotency-keys] [--quick]';

function num(flag: string, v: string | undefined, min: number, max: number): number {
  const n = Number(v);
  if (v === undefined || !Number.isFinite(n) || n < min || n > max) {
    throw new Error(`${flag} needs a number between ${min} and ${max}, got ${v ?? '(nothing)'}\n${USAGE}`);
  }
  return n;
}

export function parseArgs(argv: string[]): BenchArgs {
  const quick = argv.includes('--quick');
  const a: BenchArgs = {
    topology: 'single',
    db: 'sqlite',
    rate: quick ? 20 : 50,
    seconds: quick ? 4 : 10,
    burst: quick ? 200 : 1500,
    bursts: quick ? 1 : 3,
    idempotencyKeys: true,
    soak: quick ? 1000 : 20_000,
    workers: 0, // 0: as the service defaults for --db (set below)
    concurrency: null,
    renderThreads: null,
    profile: false,
    micro: true,
    quick,
    microIterations: quick ? 30 : 100,
    rulesMs: quick ? 500 : 2000,
    warmup: quick ? 50 : 2000,
  };
  let rateGiven = false;
  let burstGiven = false;
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i]!;
    const next = () => argv[++i];
    switch (flag) {
      case '--quick':
      case 'catalog':
      case 'templates':
      case 'intake':
        break;
      case '--topology': {
        const v = next();
        if (v !== 'single' && v !== 'cluster') throw new Error(`--topology must be single or cluster\n${USAGE}`);
        a.topology = v;
        break;
      }
      case '--db': {
        const v = next();
        if (v !== 'sqlite' && v !== 'postgres') throw new Error(`--db must be sqlite or postgres\n${USAGE}`);
        a.db = v;
        break;
      }
      case '--rate':
        a.rate = num(flag, next(), 0.1, 10_000);
        rateGiven = true;
        break;
      case '--seconds':
        a.seconds = num(flag, next(), 0.5, 3600);
        break;
      case '--burst':
        a.burst = Math.round(num(flag, next(), 1, 100_000));
        burstGiven = true;
        break;
      case '--bursts':
        a.bursts = Math.round(num(flag, next(), 1, 25));
        break;
      case '--warmup':
        a.warmup = Math.round(num(flag, next(), 1, 1_000_000));
        break;
      case '--soak':
        a.soak = Math.round(num(flag, next(), 0, 1_000_000));
        break;
      case '--workers':
        a.workers = Math.round(num(flag, next(), 1, 64));
        break;
      case '--render-threads':
        a.renderThreads = Math.round(num(flag, next(), 0, 16));
        break;
      case '--concurrency':
        a.concurrency = Math.round(num(flag, next(), 1, 256));
        break;
      case '--profile':
        a.profile = true;
        break;
      case '--no-idempotency-keys':
        a.idempotencyKeys = false;
        break;
      case '--no-micro':
        a.micro = false;
        break;
      case '--help':
      case '-h':
        console.log(USAGE);
        process.exit(0);
        break;
      default:
        throw new Error(`unknown flag ${flag}\n${USAGE}`);
    }
  }
  if (a.workers === 0) a.workers = defaultWorkerProcesses(a.db);
  // The cluster figures are asked for at 50 filings/s (issue 13), --quick or not; PostgreSQL is what it runs on.
  if (a.topology === 'cluster') {
    if (!rateGiven) a.rate = 50;
    // Intake bursts long enough to time (a few hundred 202s take well under a second).
    if (!burstGiven) a.burst = quick ? 600 : 3000;
    a.db = 'postgres';
  }
  return a;
}
