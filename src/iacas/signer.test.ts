import { describe, expect, it } from 'vitest';
import { ROTATE_AFTER_DAYS, chooseSigner } from './signer.js';
import type { SigningCandidate, SigningIaca } from './store.js';

const DAY = 86_400_000;
const NOW = new Date('2026-03-15T10:00:00Z');
const at = (days: number) => new Date(NOW.getTime() + days * DAY);
const iaca = (id: string, managed: boolean, from = -100, until = 3000): SigningIaca => ({ id, managed, not_before: at(from), not_after: at(until) });
const signer = (id: string, iacaId: string, from: number, until: number, created = from): SigningCandidate => ({
  id,
  iaca_id: iacaId,
  certificate: Buffer.alloc(0),
  not_before: at(from),
  not_after: at(until),
  created_at: at(created),
});
const chosen = (choice: ReturnType<typeof chooseSigner>) => (choice.kind === 'use' ? `use ${choice.signer.id}` : choice.kind === 'issue' ? `issue under ${choice.iaca.id}` : 'none');

describe('chooseSigner', () => {
  it('uses the usable signer that lasts longest', () => {
    const candidates = { iacas: [iaca('A', false), iaca('B', false)], signers: [signer('s1', 'A', -10, 100), signer('s2', 'B', -5, 300), signer('s3', 'A', 1, 400)] };
    expect(chosen(chooseSigner(candidates, NOW))).toBe('use s2');
  });

  it("skips a signer whose certificate is not valid now, and one whose IACA is not valid now", () => {
    const candidates = { iacas: [iaca('A', false), iaca('B', false, -100, -1)], signers: [signer('expired', 'A', -500, -1), signer('of-expired-iaca', 'B', -50, 300), signer('ok', 'A', -1, 10)] };
    expect(chosen(chooseSigner(candidates, NOW))).toBe('use ok');
  });

  it(`a managed IACA issues a signer when none is usable, and when the current one is ${ROTATE_AFTER_DAYS} days old`, () => {
    expect(chosen(chooseSigner({ iacas: [iaca('M', true)], signers: [] }, NOW))).toBe('issue under M');
    expect(chosen(chooseSigner({ iacas: [iaca('M', true)], signers: [signer('young', 'M', -29, 428)] }, NOW))).toBe('use young');
    const due = chooseSigner({ iacas: [iaca('M', true)], signers: [signer('old', 'M', -ROTATE_AFTER_DAYS, 427)] }, NOW);
    expect(chosen(due)).toBe('issue under M');
    expect(due.kind === 'issue' && due.current?.signer.id).toBe('old');
  });

  it("an unmanaged IACA's signer is used however old it is, a managed IACA beside it or not; the service cannot issue one for it", () => {
    expect(chosen(chooseSigner({ iacas: [iaca('U', false)], signers: [signer('old', 'U', -400, 50)] }, NOW))).toBe('use old');
    expect(chosen(chooseSigner({ iacas: [iaca('U', false), iaca('M', true)], signers: [signer('old', 'U', -400, 300), signer('m', 'M', -5, 200)] }, NOW))).toBe('use old');
  });

  it('issues under the managed IACA that lasts longest', () => {
    expect(chosen(chooseSigner({ iacas: [iaca('M1', true, -10, 100), iaca('M2', true, -10, 200), iaca('U', false)], signers: [] }, NOW))).toBe('issue under M2');
  });

  it('says why nothing can sign', () => {
    const reason = (candidates: Parameters<typeof chooseSigner>[0]) => {
      const choice = chooseSigner(candidates, NOW);
      return choice.kind === 'none' ? choice.reason : chosen(choice);
    };
    expect(reason({ iacas: [], signers: [] })).toMatch(/No IACA is active/);
    expect(reason({ iacas: [iaca('M', true, -100, -1)], signers: [] })).toMatch(/No active IACA is valid now/);
    expect(reason({ iacas: [iaca('M', true, 1, 100)], signers: [] })).toMatch(/No active IACA is valid now/);
    expect(reason({ iacas: [iaca('U', false)], signers: [signer('expired', 'U', -500, -1)] })).toMatch(/No document signer of an active IACA/);
  });
});
