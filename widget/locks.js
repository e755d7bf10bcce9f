// One tab at a time, across the browser's tabs of this origin: `with_lock(name, task)` runs
// `task(waited)` (which returns a promise) while holding the lock `name`, and resolves with its
// result; `waited` says whether someone else (another tab, or this tab's own earlier task) held
// the lock when it was asked for, so that the task knows whether others may have acted meanwhile.
//
// The Web Locks API (`navigator.locks`) where there is one. Where it is missing (or refused, as in
// an opaque origin), a lease in IndexedDB: a readwrite transaction over one store runs alone among
// all of the origin's tabs, so taking the lease is a true compare-and-set (a lease in localStorage
// is not one: another process sees a write late, and two tabs could both hold it). The holder
// renews it while its task runs; a lease not renewed for 10 s (its tab closed mid-task) is taken
// over. Within one tab, tasks for one name always run one after the other. Where IndexedDB is
// refused too (blocked storage), there are no other tabs to share it with: the tab's own queue
// is the lock.

const queues = new Map();
const LEASE_MS = 10_000;
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
let leases;

/** The lease store, opened once. */
function leaseStore() {
  return (leases ||= new Promise((resolve, reject) => {
    const open = indexedDB.open('edgechat-locks', 1);
    open.onupgradeneeded = () => open.result.createObjectStore('leases');
    open.onsuccess = () => resolve(open.result);
    open.onerror = () => reject(open.error);
  }));
}

/** In one transaction: `change(lease)` returns [result, the lease to store, or null to delete, or
 *  undefined to keep]; resolves with the result once the transaction has committed. */
async function update(name, change) {
  const db = await leaseStore();
  return new Promise((resolve, reject) => {
    const tx = db.transaction('leases', 'readwrite');
    const store = tx.objectStore('leases');
    let result;
    const read = store.get(name);
    read.onsuccess = () => {
      const [r, next] = change(read.result);
      result = r;
      if (next === null) store.delete(name);
      else if (next) store.put(next, name);
    };
    tx.oncomplete = () => resolve(result);
    tx.onerror = tx.onabort = () => reject(tx.error);
  });
}

async function leased(name, task) {
  const me = `${Date.now()}-${Math.random().toString(36).slice(2)}`;
  const mine = (lease) => lease?.who === me;
  const take = () => update(name, (lease) =>
    !lease || mine(lease) || lease.until < Date.now() ? [true, { who: me, until: Date.now() + LEASE_MS }] : [false]);
  let waited = false;
  try {
    while (!(await take())) waited = true, await sleep(50 + Math.random() * 100);
  } catch {
    return task(waited);
  }
  const renew = setInterval(() => take().catch(() => {}), LEASE_MS / 3);
  try {
    return await task(waited);
  } finally {
    clearInterval(renew);
    update(name, (lease) => [0, mine(lease) ? null : undefined]).catch(() => {});
  }
}

const BUSY = {};

async function locked(name, task) {
  if (!navigator.locks?.request) return leased(name, task);
  let started = false;
  const run = (waited) => { started = true; return task(waited); };
  try {
    // At once if it is free; else in turn, having waited.
    const now = await navigator.locks.request(name, { ifAvailable: true }, (lock) => (lock ? run(false) : BUSY));
    return now === BUSY ? await navigator.locks.request(name, () => run(true)) : now;
  } catch (e) {
    // A document that may not use locks (refused before the task ran): the lease instead.
    if (started) throw e;
    return leased(name, task);
  }
}

export function with_lock(name, task) {
  const queued = queues.get(name);
  const previous = queued || Promise.resolve();
  const run = previous.catch(() => {}).then(() => locked(name, (waited) => task(waited || !!queued)));
  queues.set(name, run);
  run.finally(() => { if (queues.get(name) === run) queues.delete(name); }).catch(() => {});
  return run;
}

/** Waits for the lock `name`; resolves with the function that releases it, whose `waited` says
 *  whether someone else held the lock first. */
export function acquire(name) {
  return new Promise((granted) => {
    with_lock(name, (waited) => new Promise((release) => granted(Object.assign(release, { waited })))).catch(() => {});
  });
}
