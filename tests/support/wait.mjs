// Waiting on conditions, never on the clock alone: each wait is bounded and says what it waited for.

/** Resolves once `predicate()` (sync or async) is true; polls every 50 ms, at most `ms`. */
export async function until(predicate, what, ms = 15_000) {
  const deadline = Date.now() + ms;
  while (!(await predicate())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms: ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
