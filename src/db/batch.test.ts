import { describe, expect, it } from 'vitest';
import { batched } from './batch.js';

describe('batched', () => {
  it('runs the calls of one turn together and a lone call by itself', async () => {
    const runs: number[][] = [];
    const double = batched(async (inputs: number[]) => (runs.push(inputs), inputs.map((n) => n * 2)));
    expect(await Promise.all([double(1), double(2), double(3)])).toEqual([2, 4, 6]);
    expect(await double(4)).toBe(8);
    expect(runs).toEqual([[1, 2, 3], [4]]);
  });

  it('splits at the maximum size', async () => {
    const runs: number[][] = [];
    const same = batched(async (inputs: number[]) => (runs.push(inputs), inputs), { maxBatchSize: 2 });
    expect(await Promise.all([1, 2, 3, 4, 5].map(same))).toEqual([1, 2, 3, 4, 5]);
    expect(runs).toEqual([[1, 2], [3, 4], [5]]);
  });

  it('never puts two inputs with the same key in one run', async () => {
    const runs: string[][] = [];
    const same = batched(async (inputs: string[]) => (runs.push(inputs), inputs), { keyOf: (input) => input[0]! });
    expect(await Promise.all(['a1', 'b1', 'a2', 'a3', 'c1', 'b2'].map(same))).toEqual(['a1', 'b1', 'a2', 'a3', 'c1', 'b2']);
    expect(runs).toEqual([['a1', 'b1', 'c1'], ['a2', 'b2'], ['a3']]);
  });

  it('when a shared run fails, runs each input alone so only the bad one fails', async () => {
    const runs: number[][] = [];
    const checked = batched(async (inputs: number[]) => {
      runs.push(inputs);
      if (inputs.includes(13)) throw Object.assign(new Error('unlucky'), { code: '23505' });
      return inputs;
    });
    const results = await Promise.allSettled([checked(1), checked(13), checked(2)]);
    expect(results.map((result) => result.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect(runs).toEqual([[1, 13, 2], [1], [13], [2]]);
  });

  it('when a shared run loses a race (deadlock, serialization failure), runs each input alone', async () => {
    let failures = 0;
    const racing = batched(async (inputs: number[]) => {
      if (inputs.length > 1 && failures++ === 0) throw Object.assign(new Error('deadlock detected'), { code: '40P01' });
      return inputs;
    });
    expect(await Promise.all([racing(1), racing(2)])).toEqual([1, 2]);
    expect(failures).toBe(1);
  });

  it('does not run inputs again when the failure is not about them (timeout, connection lost)', async () => {
    const runs: number[][] = [];
    const down = batched(async (inputs: number[]) => {
      runs.push(inputs);
      throw new Error('Query read timeout');
    });
    const results = await Promise.allSettled([down(1), down(2)]);
    expect(results.map((result) => result.status)).toEqual(['rejected', 'rejected']);
    expect(runs).toEqual([[1, 2]]);
  });
});
