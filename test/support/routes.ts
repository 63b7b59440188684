/**
 * The routes an app registered, read from Fastify itself, so that a test over "every route" notices a new one
 * (the access matrix and the every-route fuzzer use it).
 */
import type { FastifyInstance } from 'fastify';

/** Turns `app.printRoutes({ commonPrefix: false })` into `METHOD /full/path` lines (HEAD left out), sorted. */
export function parseRouteTree(tree: string): string[] {
  const out: string[] = [];
  const stack: string[] = [];
  for (const line of tree.split('\n')) {
    const m = /^([│ ]*)(?:├── |└── )(.+?) \(([A-Z, ]+)\)$/.exec(line.replace(/\u00a0/g, ' '));
    if (!m) continue;
    const depth = m[1]!.length / 4;
    stack.length = depth;
    stack.push(m[2]!);
    let path = '';
    for (const seg of stack) path = path === '' ? seg : path.endsWith('/') || seg.startsWith('/') ? path + seg : `${path}/${seg}`;
    if (!path.startsWith('/')) path = `/${path}`;
    if (path.length > 1 && path.endsWith('/') && !stack[stack.length - 1]!.endsWith('/')) path = path.slice(0, -1);
    for (const method of m[3]!.split(', ')) if (method !== 'HEAD') out.push(`${method} ${path.replace(/\/{2,}/g, '/')}`);
  }
  return [...new Set(out)].sort();
}

/** Every `METHOD /path/:param` the app serves (HEAD left out). */
export function registeredRoutes(app: FastifyInstance): string[] {
  return parseRouteTree(app.printRoutes({ commonPrefix: false }));
}
