/**
 * Runs `task` on each item, in order, with at most `depth` tasks in flight: the segment loop of storing and
 * repairing a file, where the depth keeps the codec's workers fed (constants.ts `pipelineDepth`). No item is started
 * after a task fails or `signal` aborts; the tasks in flight are always waited for, then the first failure (a
 * task's, the items' or the signal's) is thrown, so the caller can clean up knowing nothing runs any more.
 */
export async function runPipeline<T>(
  items: AsyncIterable<T> | Iterable<T>,
  depth: number,
  task: (item: T) => Promise<void>,
  signal?: AbortSignal,
): Promise<void> {
  const inFlight = new Set<Promise<void>>();
  let failure: { error: unknown } | undefined;
  try {
    for await (const item of items) {
      if (failure) break;
      signal?.throwIfAborted();
      const running: Promise<void> = task(item)
        .catch((error: unknown) => {
          failure ??= { error };
        })
        .finally(() => inFlight.delete(running));
      inFlight.add(running);
      if (inFlight.size >= Math.max(1, depth)) await Promise.race(inFlight);
    }
  } finally {
    await Promise.all(inFlight);
  }
  if (failure) throw failure.error;
}

/** The indices 0 … count − 1, for a pipeline over a file's segments. */
export function* segmentIndices(count: number): Generator<number> {
  for (let index = 0; index < count; index++) yield index;
}
