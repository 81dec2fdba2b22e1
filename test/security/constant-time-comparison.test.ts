import { readFile, readdir } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { constantTimeEqual } from '../../src/crypto/secrets.js';

// Secrets are compared in constant time. Stored secrets (API keys, codes, transaction codes, access
// tokens) are looked up by their keyed hash (an index lookup of an HMAC under the server secret,
// which leaks nothing usable); the two values compared in memory — the ADMIN_API_KEY's hash and a
// c_nonce's MAC — go through constantTimeEqual. This guard fails when a comparison with ===, ==,
// .equals() or Buffer.compare() on something secret-looking appears in src/ (the unit tests beside
// the modules compare expected values openly, and are not looked at).

const SRC = fileURLToPath(new URL('../../src', import.meta.url));
const SECRET_LOOKING = /secret|token|password|api_?key|keyhash|\bkey\b|code|nonce|\bmac\b|hash|\bpin\b|digest|signature/i;
const COMPARISON = /([\w.$[\]'"`?!()]+)\s*(?:===|!==|==|!=)\s*([\w.$[\]'"`?!()]+)/g;
const isConstant = (operand: string) => /^['"`\d]|^(undefined|null|true|false)$|^typeof\b|^[A-Z_]+$/.test(operand.replace(/^[(!]+|[)]+$/g, ''));

async function sourceFiles(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true });
  const nested = await Promise.all(entries.map((entry) => (entry.isDirectory() ? sourceFiles(path.join(dir, entry.name)) : [path.join(dir, entry.name)])));
  return nested.flat().filter((file) => file.endsWith('.ts') && !file.endsWith('.test.ts'));
}

describe('constant-time comparison of secrets', () => {
  it('no secret-looking value in the service code is compared with ===, ==, .equals() or Buffer.compare()', async () => {
    const findings: string[] = [];
    const files = await sourceFiles(SRC);
    expect(files.length).toBeGreaterThan(30);
    for (const file of files) {
      const lines = (await readFile(file, 'utf8')).split('\n');
      lines.forEach((line, index) => {
        if (/^\s*(\/\/|\*)/.test(line)) return;
        const where = `${path.relative(SRC, file)}:${index + 1}: ${line.trim()}`;
        for (const [, left, right] of line.matchAll(COMPARISON)) {
          if (isConstant(left!) || isConstant(right!)) continue;
          if (SECRET_LOOKING.test(left!) || SECRET_LOOKING.test(right!)) findings.push(where);
        }
        if (/\.equals\(|Buffer\.compare\(/.test(line)) findings.push(where);
      });
    }
    expect(findings).toEqual([]);
  });

  it('the guard sees such a comparison (it can fail)', () => {
    const line = 'if (presentedHash === storedHash) return true;';
    const [, left, right] = [...line.matchAll(COMPARISON)][0]!;
    expect(isConstant(left!) || isConstant(right!)).toBe(false);
    expect(SECRET_LOOKING.test(left!)).toBe(true);
  });

  it('constantTimeEqual compares by value, and unequal lengths are simply unequal', () => {
    expect(constantTimeEqual(Buffer.from('abc'), Buffer.from('abc'))).toBe(true);
    expect(constantTimeEqual(Buffer.from('abc'), Buffer.from('abd'))).toBe(false);
    expect(constantTimeEqual(Buffer.from('abc'), Buffer.from('abcd'))).toBe(false);
  });
});
