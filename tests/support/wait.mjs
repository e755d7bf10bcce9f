// Waiting on conditions, never on the clock alone: each wait is bounded and says what it waited for.

/** Resolves once `predicate()` (sync or async) is true; polls every 50 ms, at most `ms`. */
export async function until(predicate, what, ms = 15_000) {
  const deadline = Date.now() + ms;
  while (!(await predicate())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms: ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/**
 * The local rate limiter counts in fixed one-minute windows (floor(now / 60 s)); a burst that
 * would straddle two windows first waits for the next one to begin, so that it is counted whole.
 * `ms`: how long the burst may take (at most 30 s).
 */
export async function inOneWindow(ms = 15_000) {
  const left = 60_000 - (Date.now() % 60_000);
  if (left < Math.min(ms, 30_000)) await new Promise((r) => setTimeout(r, left + 100));
}
