// The layers ARCHITECTURE.md promises, checked in the source rather than claimed: which module
// may name which (`crate::x` in a `use` or a path), for every crate.
//   core:     its groups in order; a group names only itself and groups before it.
//   emulator: model -> projection -> app -> transports; the model and the projection name
//             no transport, no transport names another, control sits above the transports.
//   worker, widget: no two modules name each other (no import circles, at any length).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { ROOT } from './support/worker.mjs';

/** Every .rs file under `dir`, as [module (first path segment under src/), source without comments]. */
function modules(crate) {
  const src = join(ROOT, crate, 'src');
  const out = [];
  const walk = (dir) => {
    for (const name of readdirSync(dir)) {
      const path = join(dir, name);
      if (statSync(path).isDirectory()) walk(path);
      else if (name.endsWith('.rs')) {
        const rel = relative(src, path);
        const module = rel.split('/')[0].replace(/\.rs$/, '');
        // Comments may name anything; tests (`mod tests`) may reach anywhere.
        const code = readFileSync(path, 'utf8').replace(/\/\/.*$/gm, '').split(/#\[cfg\(test\)\]/)[0];
        out.push({ file: `${crate}/src/${rel}`, module, code });
      }
    }
  };
  walk(src);
  return out;
}

/** The crate modules a file names: `crate::x` anywhere, and `use crate::{x, y}` groups. */
function named(code) {
  const found = new Set();
  for (const m of code.matchAll(/crate::([a-z_][a-z0-9_]*)/g)) found.add(m[1]);
  for (const m of code.matchAll(/crate::\{([^}]*)\}/g)) {
    for (const part of m[1].split(',')) {
      const name = part.trim().split('::')[0].trim();
      if (/^[a-z_][a-z0-9_]*$/.test(name) && name !== 'self') found.add(name);
    }
  }
  return found;
}

/** Edges module -> module it names (its own module and `lib`/`main` left out). */
function edges(crate) {
  const out = [];
  for (const { file, module, code } of modules(crate)) {
    for (const to of named(code)) {
      if (to !== module && !['lib', 'main'].includes(module)) out.push({ file, from: module, to });
    }
  }
  return out;
}

test('core: each group names only itself and the groups before it (ARCHITECTURE.md, code map)', () => {
  const order = ['ids', 'i18n', 'retry', 'jwt', 'visitor', 'twilio', 'site', 'api', 'user_token', 'responder', 'automation', 'chat'];
  const bad = edges('core').filter(({ from, to }) => order.includes(from) && order.includes(to) && order.indexOf(to) > order.indexOf(from));
  assert.deepEqual(bad, []);
  const unknown = modules('core').map((m) => m.module).filter((m) => !order.includes(m) && !['lib', 'bin'].includes(m));
  assert.deepEqual([...new Set(unknown)], [], 'every module of core is in a group ARCHITECTURE.md places');
});

test('emulator: the model and its projection name no transport; no transport names another', () => {
  const transports = ['rest', 'twilsock', 'webhooks', 'console', 'sdk', 'mcs'];
  const below = ['model', 'projection', 'tokens', 'http', 'countdown'];
  const all = edges('emulator');
  assert.deepEqual(all.filter(({ from, to }) => below.includes(from) && (transports.includes(to) || to === 'app' || to === 'control')), [],
    'the model, the projection and the helpers name nothing above them');
  assert.deepEqual(all.filter(({ from, to }) => transports.includes(from) && (transports.includes(to) || to === 'control')), [],
    'a transport names no other transport, nor the controls above them');
  const placed = [...transports, ...below, 'app', 'control', 'main'];
  const unknown = modules('emulator').map((m) => m.module).filter((m) => !placed.includes(m));
  assert.deepEqual([...new Set(unknown)], [], 'every module of the emulator has a place in its layers');
});

for (const crate of ['worker', 'widget']) {
  test(`${crate}: no import circles between its modules`, () => {
    const graph = new Map();
    for (const { from, to } of edges(crate)) graph.set(from, new Set([...(graph.get(from) ?? []), to]));
    const circles = [];
    const visit = (node, path) => {
      for (const next of graph.get(node) ?? []) {
        if (next === path[0]) circles.push([...path, next].join(' -> '));
        else if (!path.includes(next) && next > path[0]) visit(next, [...path, next]);
      }
    };
    for (const start of graph.keys()) visit(start, [start]);
    assert.deepEqual(circles, []);
  });
}
