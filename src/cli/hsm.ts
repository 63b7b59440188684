/**
 * Puts department seal keys into a PKCS#11 token (an HSM, or SoftHSM2 for a trial) for SEAL_BACKEND=pkcs11:
 *
 *   npm run hsm -- provision --module /usr/lib/softhsm/libsofthsm2.so --token TOKEN --pin PIN \
 *                            --ca-key ca.key.pem --ca-cert ca.cert.pem [--chain chain.pem] [--rules rules] [--years 3]
 *
 * For every department of the catalog: an EC P-256 key pair generated inside the token (sensitive, not
 * extractable), a seal certificate issued by the given CA, both stored under the department code as label.
 * Keys already on the token are left alone. An authority whose CA key stays in its own HSM issues from a CSR
 * instead; this command is for trials and for tokens whose CA the city runs itself.
 */
import { X509Certificate, createPrivateKey } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { loadCatalog } from '../catalog/load-catalog.js';
import { loadSourceRegistry } from '../data-sources/registry.js';
import { provisionToken } from '../signing/pkcs11-provision.js';

const [command, ...rest] = process.argv.slice(2);
const usage = 'usage: npm run hsm -- provision --module LIB.so --token LABEL --pin PIN --ca-key KEY.pem --ca-cert CERT.pem [--chain PEM] [--rules DIR] [--years N]';
if (command !== 'provision') {
  process.stderr.write(`${usage}\n`);
  process.exit(2);
}
const { values } = parseArgs({
  args: rest,
  options: {
    module: { type: 'string' },
    token: { type: 'string' },
    pin: { type: 'string' },
    'ca-key': { type: 'string' },
    'ca-cert': { type: 'string' },
    chain: { type: 'string' },
    rules: { type: 'string', default: 'rules' },
    years: { type: 'string', default: '3' },
  },
});
const missing = (['module', 'token', 'pin', 'ca-key', 'ca-cert'] as const).filter((k) => !values[k]);
if (missing.length > 0) {
  process.stderr.write(`缺少参数 missing: ${missing.map((m) => `--${m}`).join(', ')}\n${usage}\n`);
  process.exit(2);
}
const years = Number(values.years);
if (!Number.isInteger(years) || years < 1 || years > 10) {
  process.stderr.write('--years must be a whole number from 1 to 10\n');
  process.exit(2);
}
const rulesDir = path.resolve(values.rules);
const registry = loadSourceRegistry(rulesDir);
const catalog = loadCatalog(rulesDir, new Set(registry.map((s) => s.id)));
const departments = [...new Map([...catalog.matters.values()].map((m) => [m.def.department.code, { code: m.def.department.code, name: m.def.department.name }])).values()];
const ca = {
  key: createPrivateKey(readFileSync(values['ca-key']!, 'utf8')),
  certificate: new Uint8Array(new X509Certificate(readFileSync(values['ca-cert']!)).raw),
};
const issued = provisionToken({
  module: values.module!,
  token: values.token!,
  pin: values.pin!,
  departments,
  ca,
  chainPem: values.chain ? readFileSync(values.chain, 'utf8') : undefined,
  years,
});
for (const d of departments) {
  const c = issued.get(d.code);
  process.stdout.write(`${d.code}  ${d.name}  ${c ? `seal certificate ${c.serialNumber} valid to ${c.validTo}` : 'kept (already on the token)'}\n`);
}
