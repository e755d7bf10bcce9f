// One tab at a time, across the browser's tabs of this origin: `with_lock(name, task)` runs
// `task()` (which returns a promise) while holding the lock `name`, and resolves with its result.
//
// The Web Locks API (`navigator.locks`) where there is one. Where it is missing (or refused, as in
// an opaque origin), a lease in localStorage: a tab writes its claim, waits a moment and reads it
// back (the last writer wins, and every tab sees the same winner); the holder renews it while its
// task runs, and a claim not renewed for 10 s (its tab closed mid-task) is taken over. Within one
// tab, tasks for one name always run one after the other. Where storage is blocked too, there are
// no other tabs to share it with: the tab's own queue is the lock.

const queues = new Map();
const LEASE_MS = 10_000;
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

function storage() {
  try {
    const s = window.localStorage;
    s.getItem('edgechat:probe');
    return s;
  } catch {
    return null;
  }
}

async function leased(name, task) {
  const s = storage();
  if (!s) return task();
  const key = `${name}:lease`;
  const me = `${Date.now()}-${Math.random().toString(36).slice(2)}`;
  const holder = () => {
    const [who, until] = (s.getItem(key) || '').split(' ');
    return { who, until: Number(until) || 0 };
  };
  const claim = () => s.setItem(key, `${me} ${Date.now() + LEASE_MS}`);
  for (;;) {
    const held = holder();
    if (!held.who || held.until < Date.now()) {
      claim();
      // Another tab's claim can take a while to reach this one (localStorage is shared across
      // processes): read back twice before holding it.
      await sleep(150);
      if (holder().who === me) {
        await sleep(150);
        if (holder().who === me) break;
      }
    }
    await sleep(50 + Math.random() * 100);
  }
  const renew = setInterval(() => { if (holder().who === me) claim(); }, LEASE_MS / 3);
  try {
    return await task();
  } finally {
    clearInterval(renew);
    if (holder().who === me) s.removeItem(key);
  }
}

function locked(name, task) {
  if (!navigator.locks?.request) return leased(name, task);
  let started = false;
  return navigator.locks.request(name, () => { started = true; return task(); })
    // A document that may not use locks (refused before the task ran): the lease instead.
    .catch((e) => (started ? Promise.reject(e) : leased(name, task)));
}

export function with_lock(name, task) {
  const previous = queues.get(name) || Promise.resolve();
  const run = previous.catch(() => {}).then(() => locked(name, task));
  queues.set(name, run);
  run.finally(() => { if (queues.get(name) === run) queues.delete(name); }).catch(() => {});
  return run;
}

/** Waits for the lock `name`; resolves with the function that releases it. */
export function acquire(name) {
  return new Promise((granted) => {
    with_lock(name, () => new Promise((release) => granted(release))).catch(() => {});
  });
}
