/**
 * Where a webhook may connect. Private, loopback, link-local (cloud metadata 169.254.169.254 included), CGNAT
 * (Alibaba Cloud's 100.100.100.200), multicast, documentation and other special ranges are refused; loopback only
 * when development allows it (WEBHOOK_ALLOW_LOOPBACK). The check runs on the address actually dialled: the DNS
 * answer is checked and pinned in the socket's `lookup`, so a name that resolves differently later (DNS
 * rebinding) cannot slip through.
 */
import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import { BlockList, isIP, type LookupFunction } from 'node:net';

const forbidden = new BlockList();
for (const [net, prefix] of [
  ['0.0.0.0', 8], ['10.0.0.0', 8], ['100.64.0.0', 10], ['169.254.0.0', 16], ['172.16.0.0', 12], ['192.0.0.0', 24],
  ['192.0.2.0', 24], ['192.88.99.0', 24], ['192.168.0.0', 16], ['198.18.0.0', 15], ['198.51.100.0', 24],
  ['203.0.113.0', 24], ['224.0.0.0', 4], ['240.0.0.0', 4],
] as const) {
  forbidden.addSubnet(net, prefix, 'ipv4');
}
for (const [net, prefix] of [
  ['::', 128], ['64:ff9b::', 96], ['64:ff9b:1::', 48], ['100::', 64], ['2001::', 32], ['2001:db8::', 32], ['2002::', 16],
  ['fc00::', 7], ['fe80::', 10], ['fec0::', 10], ['ff00::', 8],
] as const) {
  forbidden.addSubnet(net, prefix, 'ipv6');
}
// Only global unicast (2000::/3) can be a webhook receiver. Outside it lie, besides unique-local, link-local and
// multicast, the IPv6 spellings that carry an IPv4 address — IPv4-compatible ::a.b.c.d (`[::127.0.0.1]`),
// IPv4-translated ::ffff:0:a.b.c.d (`[::ffff:0:127.0.0.1]`), NAT64 64:ff9b:: — whose embedded address may be
// loopback, private or metadata. IPv4-mapped ::ffff:a.b.c.d is how dual-stack sockets spell IPv4: `unmapped` turns
// it back first and it is judged as the IPv4 address it is.
const globalUnicast = new BlockList();
globalUnicast.addSubnet('2000::', 3, 'ipv6');
const loopback = new BlockList();
loopback.addSubnet('127.0.0.0', 8, 'ipv4');
loopback.addAddress('::1', 'ipv6');

export type AddressClass = 'public' | 'loopback' | 'forbidden';

/** `::ffff:a.b.c.d` (in any spelling) → `a.b.c.d`; anything else unchanged. */
function unmapped(ip: string): string {
  if (isIP(ip) !== 6) return ip;
  const host = new URL(`http://[${ip}]/`).hostname.slice(1, -1);
  const m = /^::ffff:([0-9a-f]{1,4}):([0-9a-f]{1,4})$/.exec(host);
  if (!m) return host;
  const hi = parseInt(m[1]!, 16);
  const lo = parseInt(m[2]!, 16);
  return `${hi >> 8}.${hi & 255}.${lo >> 8}.${lo & 255}`;
}

export function classifyAddress(ip: string): AddressClass {
  const addr = unmapped(ip);
  const family = isIP(addr);
  if (family === 0) return 'forbidden';
  const type = family === 4 ? 'ipv4' : 'ipv6';
  if (loopback.check(addr, type)) return 'loopback';
  if (type === 'ipv6' && !globalUnicast.check(addr, type)) return 'forbidden';
  return forbidden.check(addr, type) ? 'forbidden' : 'public';
}

export function addressAllowed(ip: string, allowLoopback: boolean): boolean {
  const c = classifyAddress(ip);
  return c === 'public' || (c === 'loopback' && allowLoopback);
}

export class BlockedAddressError extends Error {
  override name = 'BlockedAddressError';
  readonly code = 'EWEBHOOKBLOCKED';
  constructor(host: string, address: string) {
    super(`refused to connect to ${host} (${address}): private, loopback, link-local or metadata address`);
  }
}

/**
 * A socket `lookup` that resolves every address of the name, refuses the connection if any of them is not allowed,
 * and hands the socket exactly the addresses it checked.
 */
export function guardedLookup(allowLoopback: boolean): LookupFunction {
  return (hostname, options, callback) => {
    dnsLookup(hostname, { all: true, family: options.family ?? 0 }, (err, addresses: LookupAddress[]) => {
      if (err) return callback(err, '', 0);
      const bad = addresses.find((a) => !addressAllowed(a.address, allowLoopback));
      if (bad || addresses.length === 0) {
        return callback(new BlockedAddressError(hostname, bad?.address ?? 'no address'), '', 0);
      }
      if (options.all) return (callback as unknown as (e: null, a: LookupAddress[]) => void)(null, addresses);
      const first = addresses[0]!;
      callback(null, first.address, first.family);
    });
  };
}

/** The host part of a URL as dialled: IPv6 literals without brackets. */
export function urlHost(u: URL): string {
  return u.hostname.startsWith('[') ? u.hostname.slice(1, -1) : u.hostname;
}
