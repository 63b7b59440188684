/**
 * `npm start`: the embedded default in one command. Starts a local redis-server when REDIS_URL is unset, makes
 * the dev secret and keys, then runs the API and the worker(s) as child processes and stops them together.
 */
import { fork, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { childEnvironment, ConfigError } from './config.js';
import { describeTopology } from './redis.js';
import { loadCatalog } from './catalog/load-catalog.js';
import { loadBundles } from './bundles/load-bundles.js';
import { loadSourceRegistry } from './data-sources/registry.js';
import { ProductionRefusal, productionConfigProblems, productionKeyProblems } from './production-check.js';
import { openDepartmentSigners } from './signing/department-signers.js';
import { ensureDevPki } from './signing/pki.js';
import { exitIfStartupError, loadConfigOrExit, orExit } from './startup.js';
import { startLocalRedis, type LocalRedis } from './local-redis.js';
import { createLogger } from './logger.js';
import { parseSecretKey } from './store/secret-box.js';
import { createStore } from './store/index.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const config = loadConfigOrExit('launcher');
const logger = createLogger(config.logLevel, 'launcher');

// Fail fast on a bad catalog, keys or a production refusal before starting anything; prepare shared state once.
await orExit('launcher', async () => {
  const registry = loadSourceRegistry(config.rulesDir);
  const refused = productionConfigProblems(config, registry);
  if (refused.length > 0) throw new ProductionRefusal(refused);
  const catalog = loadCatalog(config.rulesDir, new Set(registry.map((s) => s.id)), {
    snapshotFile: path.join(config.dataDir, 'catalog-snapshot.json'),
  });
  loadBundles(config.rulesDir, catalog, new Set(registry.map((s) => s.id)));
  const departments = [...new Map([...catalog.matters.values()].map((m) => [m.def.department.code, m.def.department])).values()];
  // Development keys only where development keys are used (never in production: refused above).
  const pki = config.sealKeys.backend === 'dev' || config.eseal.url === null ? await ensureDevPki(config.certsDir, departments) : null;
  const seals = openDepartmentSigners(config.sealKeys, departments.map((d) => d.code), { devPki: pki, trustRootsPem: config.trustRootsPem, production: config.production });
  seals.close();
  const keyProblems = productionKeyProblems(config, seals.leaves, seals.anchorsPem);
  if (keyProblems.length > 0) throw new ProductionRefusal(keyProblems);
  const store = await createStore({ databaseUrl: config.databaseUrl, sqlitePath: config.sqlitePath, webhookSecretKey: config.webhooks.secretKey === null ? null : parseSecretKey(config.webhooks.secretKey) });
  await store.close();
});

// ROLE=api|worker runs next to other processes on a shared Redis: it must be named, never a private local one.
if (config.role !== 'all' && !config.redis) {
  exitIfStartupError(new ConfigError('REDIS_URL', `is not set: ROLE=${config.role} shares Redis with the other processes; name it (REDIS_URL, REDIS_SENTINELS + REDIS_SENTINEL_NAME or REDIS_CLUSTER_NODES)`), 'launcher');
}
let redis: LocalRedis | null = null;
const redisEnv: Record<string, string> = {};
if (!config.redis) {
  redis = await startLocalRedis(config.dataDir);
  redisEnv['REDIS_URL'] = redis.url;
  logger.info({ redisUrl: redis.url, dir: path.join(config.dataDir, 'redis') }, 'started local redis-server (AOF on)');
}

const ext = path.extname(fileURLToPath(import.meta.url));
const env = childEnvironment(redisEnv);
const children: ChildProcess[] = [];
let stopping = false;

function run(name: string, file: string): void {
  const child = fork(path.join(here, `${file}${ext}`), [], { env, stdio: 'inherit', execArgv: process.execArgv });
  children.push(child);
  child.on('exit', (code, signal) => {
    if (stopping) return;
    logger.error({ name, code, signal }, 'child process exited; stopping the service');
    void stop(1);
  });
}

async function stop(exitCode: number): Promise<void> {
  if (stopping) return;
  stopping = true;
  await Promise.all(
    children.map(
      (c) =>
        new Promise<void>((resolve) => {
          if (c.exitCode !== null || c.signalCode !== null) return resolve();
          c.once('exit', () => resolve());
          c.kill('SIGTERM');
        }),
    ),
  );
  if (redis) await redis.stop();
  logger.info('service stopped');
  process.exit(exitCode);
}

if (config.role !== 'worker') run('api', 'server');
if (config.role !== 'api') for (let i = 0; i < config.workerProcesses; i++) run(`worker-${i + 1}`, 'worker');
process.on('SIGTERM', () => void stop(0));
process.on('SIGINT', () => void stop(0));
logger.info(
  { url: config.role === 'worker' ? undefined : config.publicUrl, role: config.role, workers: config.role === 'api' ? 0 : config.workerProcesses, redis: config.redis ? describeTopology(config.redis) : 'local' },
  '秒批秒办 service starting',
);
