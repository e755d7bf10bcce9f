// A small seeded PRNG (mulberry32) for generated test inputs: a failure prints its seed, and
// ORACLE_SEED=<seed> replays the same inputs.
export function rng(seed) {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export const oracleSeed = () => Number(process.env.ORACLE_SEED ?? Date.now() % 1_000_000);
