/** Command-line flags of the benchmark (`npm run bench -- --db postgres --rate 30`). */
export interface BenchArgs {
  db: 'sqlite' | 'postgres';
  /** Filings per second offered in the open-loop latency phase. */
  rate: number;
  /** Length of the latency phase. */
  seconds: number;
  /** Filings enqueued at once in the throughput phase. */
  burst: number;
  /** Worker concurrency; null → the config default (WORKER_CONCURRENCY, 4). */
  workers: number | null;
  quick: boolean;
  /** Intake phase: requests and client concurrency. */
  intakeRequests: number;
  intakeConcurrency: number;
  /** Micro benchmarks: iterations per PDF/signature block, time budget of the rules loop. */
  microIterations: number;
  rulesMs: number;
  /** Seeding: how many Shenyang region codes per enterprise get a first (首次) filing. */
  seedRegions: number;
}

const USAGE = `usage: tsx bench/run.ts [catalog] [--db sqlite|postgres] [--rate N] [--seconds S] [--burst N] [--workers N] [--quick]`;

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
    db: 'sqlite',
    rate: quick ? 8 : 20,
    seconds: quick ? 4 : 10,
    burst: quick ? 40 : 300,
    workers: null,
    quick,
    intakeRequests: quick ? 300 : 2000,
    intakeConcurrency: quick ? 20 : 50,
    microIterations: quick ? 30 : 100,
    rulesMs: quick ? 500 : 2000,
    seedRegions: quick ? 3 : 13,
  };
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i]!;
    const next = () => argv[++i];
    switch (flag) {
      case '--quick':
      case 'catalog':
        break;
      case '--db': {
        const v = next();
        if (v !== 'sqlite' && v !== 'postgres') throw new Error(`--db must be sqlite or postgres\n${USAGE}`);
        a.db = v;
        break;
      }
      case '--rate':
        a.rate = num(flag, next(), 0.1, 10_000);
        break;
      case '--seconds':
        a.seconds = num(flag, next(), 0.5, 3600);
        break;
      case '--burst':
        a.burst = Math.round(num(flag, next(), 1, 100_000));
        break;
      case '--workers':
        a.workers = Math.round(num(flag, next(), 1, 256));
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
  return a;
}
