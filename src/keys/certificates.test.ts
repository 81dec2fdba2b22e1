import { describe, expect, it } from 'vitest';
import { readPemBlocks } from './certificates.js';

const pem = (label: string, bytes: Buffer, endLabel = label) =>
  `-----BEGIN ${label}-----\n${bytes.toString('base64').replace(/.{1,64}/g, '$&\n')}-----END ${endLabel}-----`;
const first = Buffer.from(Array.from({ length: 100 }, (_, i) => i));
const second = Buffer.from('a second block');

describe('readPemBlocks', () => {
  it('reads every block in order, with its label and DER bytes, ignoring text around and between them', () => {
    const text = `Subject: leaf\n${pem('CERTIFICATE', first)}\n\nissuer: root\r\n${pem('PRIVATE KEY', second)}\ntrailing`;
    expect(readPemBlocks(text)).toEqual([
      { label: 'CERTIFICATE', der: first },
      { label: 'PRIVATE KEY', der: second },
    ]);
  });

  it('reads no block from text without any', () => {
    expect(readPemBlocks('')).toEqual([]);
    expect(readPemBlocks('just some text')).toEqual([]);
  });

  it('refuses a block whose END label differs from its BEGIN label', () => {
    expect(readPemBlocks(pem('CERTIFICATE', first, 'PRIVATE KEY'))).toBeUndefined();
  });

  it('refuses a body that is not whole base64', () => {
    expect(readPemBlocks('-----BEGIN CERTIFICATE-----\nAAA*\n-----END CERTIFICATE-----')).toBeUndefined();
    expect(readPemBlocks('-----BEGIN CERTIFICATE-----\nAAAAA\n-----END CERTIFICATE-----')).toBeUndefined();
    expect(readPemBlocks('-----BEGIN CERTIFICATE-----\n\n-----END CERTIFICATE-----')).toBeUndefined();
    expect(readPemBlocks('-----BEGIN CERTIFICATE-----\nAA==AA==\n-----END CERTIFICATE-----')).toBeUndefined();
  });

  it('refuses armour left open or closed without an opening', () => {
    expect(readPemBlocks(pem('CERTIFICATE', first).replace('-----END CERTIFICATE-----', ''))).toBeUndefined();
    expect(readPemBlocks(`${pem('CERTIFICATE', first)}\n-----BEGIN CERTIFICATE-----\nAAAA`)).toBeUndefined();
    expect(readPemBlocks(`AAAA\n-----END CERTIFICATE-----\n${pem('CERTIFICATE', first)}`)).toBeUndefined();
  });
});
