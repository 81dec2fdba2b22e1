// SQLSTATE classes 22 (data exception), 23 (integrity constraint violation), P0 (PL/pgSQL RAISE): the
// database refused some input; 40 (transaction rollback: deadlock, serialization failure): the shared
// statement lost a race. Either way nothing of it was written, and each input alone may succeed.
const worthRunningAlone = (error: unknown) => /^(22|23|40|P0)/.test(String((error as { code?: unknown } | undefined)?.code ?? ''));

/**
 * Turns a function of many inputs into a function of one input: the calls made in the same turn of
 * the event loop are run together, as one call of `runMany`. Under load, the requests whose bodies
 * were read in one poll phase then share one statement and one commit; a lone call runs by itself,
 * at the end of the turn, with no timer and no added wait.
 *
 * `runMany` must return one output per input, in order, and write all of them or none (one
 * statement). When a shared call fails because the database rejected the data (a data exception, a
 * constraint, a trigger's RAISE) or rolled it back (deadlock, serialization failure), each input is
 * run again on its own, so one bad input fails only its own caller. Any other failure (timeout,
 * connection lost) is not about one input, and is every caller's answer at once.
 *
 * `keyOf`, when given, keeps inputs with the same key out of the same run: they then meet in the
 * database one after the other, as two separate requests would (a run that updates one row twice
 * would otherwise apply only one of the updates).
 *
 * The queue holds only calls in flight in this process: nothing here outlives them.
 */
export function batched<I, O>(
  runMany: (inputs: I[]) => Promise<O[]>,
  { maxBatchSize = 50, keyOf }: { maxBatchSize?: number; keyOf?: (input: I) => string } = {},
): (input: I) => Promise<O> {
  let queue: { input: I; resolve: (output: O) => void; reject: (error: unknown) => void }[] = [];

  const runOne = async (input: I) => (await runMany([input]))[0]!;
  const run = async (items: typeof queue) => {
    try {
      const outputs = await runMany(items.map((item) => item.input));
      items.forEach((item, index) => item.resolve(outputs[index]!));
    } catch (error) {
      if (items.length === 1 || !worthRunningAlone(error)) return items.forEach((item) => item.reject(error));
      for (const item of items) runOne(item.input).then(item.resolve, item.reject);
    }
  };

  const flush = () => {
    const runs: { items: typeof queue; keys: Set<string> }[] = [];
    for (const item of queue) {
      const key = keyOf?.(item.input);
      let target = runs.find((r) => r.items.length < maxBatchSize && (key === undefined || !r.keys.has(key)));
      if (!target) runs.push((target = { items: [], keys: new Set() }));
      target.items.push(item);
      if (key !== undefined) target.keys.add(key);
    }
    queue = [];
    for (const { items } of runs) void run(items);
  };

  return (input) =>
    new Promise<O>((resolve, reject) => {
      if (queue.length === 0) setImmediate(flush);
      queue.push({ input, resolve, reject });
    });
}
