/**
 * What production mode must refuse for issue 16 (DESIGN.md §9), as one line per problem, for the production check
 * to call: a node with peers that would authenticate to them with a development node key. (Without COURIER_URL,
 * production takes no 快递取送 request at all — intake refuses it — rather than book with the stand-in courier.)
 */
import type { Config } from '../config.js';

export function federationProductionProblems(config: Pick<Config, 'federation' | 'courier'>): string[] {
  const problems: string[] = [];
  const f = config.federation;
  if (f.peers.length > 0 && (!f.nodeKeyPem || !f.nodeCertPem)) {
    problems.push(
      'FEDERATION_NODE_KEY / FEDERATION_NODE_CERT are not set: production never authenticates to peer city nodes with a development node key; mount the node key and its certificate (subject serialNumber = CITY_CODE)',
    );
  }
  return problems;
}
