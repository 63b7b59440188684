/**
 * How a process stops when it must not start: one line per problem on stderr, exit code 1, before it listens or
 * takes a job — never a stack trace for a configuration mistake.
 */
import { ConfigError, loadConfig, type Config } from './config.js';
import { ProductionRefusal } from './production-check.js';
import { SealKeyError } from './signing/file-signer.js';

/** Prints why the process cannot start and exits 1; other errors are rethrown (they are bugs, with stacks). */
export function exitIfStartupError(err: unknown, processName: string): void {
  let lines: string[] | null = null;
  if (err instanceof ProductionRefusal) lines = ['生产模式拒绝启动 Production mode refuses to start:', ...err.problems];
  else if (err instanceof ConfigError) lines = [err.message];
  else if (err instanceof SealKeyError) lines = ['印章密钥不可用 Seal keys are not usable:', ...err.message.split('\n')];
  if (lines === null) return;
  process.stderr.write(`${lines.map((l, i) => (i === 0 ? `[${processName}] ${l}` : `[${processName}]   ${l}`)).join('\n')}\n`);
  process.exit(1);
}

/** loadConfig, or the refusal printed and exit 1. */
export function loadConfigOrExit(processName: string): Readonly<Config> {
  try {
    return loadConfig();
  } catch (err) {
    exitIfStartupError(err, processName);
    throw err;
  }
}

/** Runs a start-up step; a configuration or production refusal ends the process with its lines. */
export async function orExit<T>(processName: string, step: () => Promise<T>): Promise<T> {
  try {
    return await step();
  } catch (err) {
    exitIfStartupError(err, processName);
    throw err;
  }
}
