import { lookup as dnsLookup, type LookupAddress, type LookupOptions } from 'node:dns';
import { isIP } from 'node:net';
import ipaddr from 'ipaddr.js';

// Where a webhook may send to. Without WEBHOOK_ALLOW_PRIVATE_NETWORKS only public unicast addresses:
// a management key must not turn the service into a scanner of the network it runs in (loopback,
// RFC 1918, link-local with the cloud metadata address, unique local, CGNAT, and the rest).

export interface DestinationPolicy {
  /** NODE_ENV=production: https only. */
  production: boolean;
  allowPrivateNetworks: boolean;
}

/** Whether an IP address is one a webhook may connect to. */
export function isAllowedAddress(address: string, allowPrivateNetworks: boolean): boolean {
  if (allowPrivateNetworks) return true;
  if (!ipaddr.isValid(address)) return false;
  let parsed = ipaddr.parse(address);
  if (parsed.kind() === 'ipv6' && (parsed as ipaddr.IPv6).isIPv4MappedAddress()) parsed = (parsed as ipaddr.IPv6).toIPv4Address();
  return parsed.range() === 'unicast';
}

const hostOf = (url: URL) => url.hostname.replace(/^\[(.*)\]$/, '$1');

/**
 * Why a URL may not be a webhook's, or undefined when it may. Host names are resolved and checked
 * again at every delivery (DNS may change); here only what the URL itself says.
 */
export function urlProblem(url: string, policy: DestinationPolicy): string | undefined {
  if (!URL.canParse(url)) return 'must be an absolute URL';
  const parsed = new URL(url);
  if (parsed.protocol !== 'https:' && !(parsed.protocol === 'http:' && !policy.production)) {
    return policy.production ? 'must be an https URL (NODE_ENV=production)' : 'must be an http or https URL';
  }
  if (parsed.username || parsed.password) return 'must not carry credentials (user:password@)';
  const host = hostOf(parsed);
  const loopbackName = host === 'localhost' || host.endsWith('.localhost');
  if ((isIP(host) && !isAllowedAddress(host, policy.allowPrivateNetworks)) || (loopbackName && !policy.allowPrivateNetworks)) {
    return 'must not point at a loopback, private or link-local address (set WEBHOOK_ALLOW_PRIVATE_NETWORKS=true to allow it)';
  }
  return undefined;
}

export class RefusedDestination extends Error {}

type LookupCallback = (error: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void;

/**
 * A `lookup` for http.request that resolves as usual and refuses the connection when any address
 * of the name is not allowed: the check applies to the address actually connected to, so a name
 * that resolves differently at delivery than at registration (DNS rebinding) gains nothing.
 */
export function guardedLookup(allowPrivateNetworks: boolean) {
  return (hostname: string, options: LookupOptions, callback: LookupCallback) => {
    dnsLookup(hostname, { ...options, all: true }, (error, addresses) => {
      if (error) return callback(error, []);
      const refused = addresses.find((entry) => !isAllowedAddress(entry.address, allowPrivateNetworks));
      if (refused || !addresses.length) {
        return callback(Object.assign(new RefusedDestination(`${hostname} resolves to ${refused?.address ?? 'nothing'}, which webhooks may not reach`), { code: 'EREFUSED_DESTINATION' }), []);
      }
      if (options.all) return callback(null, addresses);
      callback(null, addresses[0]!.address, addresses[0]!.family);
    });
  };
}
