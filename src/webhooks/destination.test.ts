import { describe, expect, it } from 'vitest';
import { guardedLookup, isAllowedAddress, urlProblem } from './destination.js';

const closed = { production: false, allowPrivateNetworks: false };

describe('webhook destinations', () => {
  it('refuses loopback, private, link-local (cloud metadata), unique local, CGNAT, unspecified and mapped private addresses', () => {
    for (const address of ['127.0.0.1', '127.1.2.3', '10.0.0.1', '172.16.5.4', '192.168.1.1', '169.254.169.254', '100.64.0.1', '0.0.0.0', '::1', '::', 'fd00:ec2::254', 'fe80::1', '::ffff:127.0.0.1', '::ffff:10.0.0.1', '224.0.0.1', '255.255.255.255']) {
      expect(isAllowedAddress(address, false), address).toBe(false);
      expect(isAllowedAddress(address, true), address).toBe(true);
    }
    for (const address of ['8.8.8.8', '93.184.216.34', '2606:4700::1111', '::ffff:8.8.8.8']) expect(isAllowedAddress(address, false), address).toBe(true);
  });

  it('checks the URL: scheme, credentials, literal addresses and localhost', () => {
    expect(urlProblem('https://hooks.example.com/a?b=c', closed)).toBeUndefined();
    expect(urlProblem('http://hooks.example.com/a', closed)).toBeUndefined();
    expect(urlProblem('http://hooks.example.com/a', { ...closed, production: true })).toMatch(/https/);
    expect(urlProblem('ftp://hooks.example.com/a', closed)).toMatch(/http/);
    expect(urlProblem('https://user:pw@hooks.example.com/a', closed)).toMatch(/credentials/);
    for (const url of ['http://127.0.0.1:8080/', 'http://[::1]/', 'http://169.254.169.254/latest/meta-data', 'http://localhost:3000/', 'http://a.localhost/', 'http://[::ffff:7f00:1]/', 'http://2130706433/', 'http://0x7f.1/']) {
      expect(urlProblem(url, closed), url).toMatch(/loopback, private/);
      expect(urlProblem(url, { ...closed, allowPrivateNetworks: true }), url).toBeUndefined();
    }
  });

  it('the lookup refuses a name that resolves to a refused address, and passes one that is allowed', async () => {
    const resolve = (allow: boolean, all: boolean) =>
      new Promise((ok, fail) => guardedLookup(allow)('localhost', { all }, (error, address) => (error ? fail(error) : ok(address))));
    await expect(resolve(false, false)).rejects.toThrow(/localhost resolves to .* which webhooks may not reach/);
    await expect(resolve(true, false)).resolves.toMatch(/^(127\.0\.0\.1|::1)$/);
    await expect(resolve(true, true)).resolves.toEqual(expect.arrayContaining([expect.objectContaining({ address: expect.any(String) })]));
  });
});
