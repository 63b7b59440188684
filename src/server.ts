/** API process: config → deps → app → listen; graceful close on SIGTERM/SIGINT. */
import { buildApp } from './app.js';
import { createDeps } from './deps.js';
import { httpDepsFrom } from './http/http-deps.js';
import { createLogger } from './logger.js';
import { loadConfigOrExit, orExit } from './startup.js';

const config = loadConfigOrExit('api');
const logger = createLogger(config.logLevel, 'api');
const deps = await orExit('api', () => createDeps(config, logger));
const app = await buildApp(httpDepsFrom(deps), logger);
await app.listen({ port: config.port, host: config.host });
logger.info({ port: config.port, publicUrl: config.publicUrl }, 'api listening');

let closing = false;
async function shutdown(signal: string): Promise<void> {
  if (closing) return;
  closing = true;
  logger.info({ signal }, 'api closing');
  const force = setTimeout(() => process.exit(1), 15_000);
  force.unref();
  await app.close();
  await deps.close();
  process.exit(0);
}
process.on('SIGTERM', () => void shutdown('SIGTERM'));
process.on('SIGINT', () => void shutdown('SIGINT'));
