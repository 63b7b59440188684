/** Worker process: config → deps → BullMQ worker + outbox relay + reconciler; closes on SIGTERM/SIGINT. */
import { loadFont } from './documents/fonts.js';
import { createDeps } from './deps.js';
import { createLogger } from './logger.js';
import { loadConfigOrExit, orExit } from './startup.js';
import { startWorkerRuntime } from './worker-runtime.js';

const config = loadConfigOrExit('worker');
const logger = createLogger(config.logLevel, 'worker');
const deps = await orExit('worker', () => createDeps(config, logger));
// Parse the CJK font before the first job (~25 ms), not inside it.
loadFont();
const runtime = startWorkerRuntime(deps);
logger.info({ concurrency: config.workerConcurrency, queue: config.queueName }, 'worker started');

let closing = false;
async function shutdown(signal: string): Promise<void> {
  if (closing) return;
  closing = true;
  logger.info({ signal }, 'worker closing: finishing active jobs');
  const force = setTimeout(() => process.exit(1), 30_000);
  force.unref();
  await runtime.close();
  await deps.close();
  logger.info('worker closed');
  process.exit(0);
}
process.on('SIGTERM', () => void shutdown('SIGTERM'));
process.on('SIGINT', () => void shutdown('SIGINT'));
