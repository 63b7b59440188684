/**
 * What production mode must refuse for issue 16 (DESIGN.md §9), as one line per problem, for the production check
 * to call: a node that would authenticate to its peers with a development node key, and 快递取送 that would book
 * waybills with the in-process stand-in courier instead of a real one.
 */
import type { Config } from '../config.js';

export function federationProductionProblems(config: Pick<Config, 'federation' | 'courier'>): string[] {
  const problems: string[] = [];
  const f = config.federation;
  if (!f.nodeKeyPem || !f.nodeCertPem) {
    problems.push(
      'FEDERATION_NODE_KEY / FEDERATION_NODE_CERT are not set: production never authenticates to peer city nodes with a development node key; mount the node key and its certificate (subject serialNumber = CITY_CODE)',
    );
  }
  if (config.courier.url === null) {
    problems.push('COURIER_URL is not set: production never books 快递取送 waybills with the development stand-in courier; set the courier API base URL');
  }
  return problems;
}
