// The widget's size account (part of `npm run bench`): what each crate and each function costs
// in the wasm that ships. The shipped build has no names, so this builds a second copy from the
// same cargo output with names kept (wasm-bindgen --keep-debug, then the shipped wasm-opt passes
// with -g), attributes its bytes with twiggy (crates.io), and prints markdown for BENCHMARKS.md:
// the shipped totals (raw, gzip -9, brotli 11), bytes by crate, and the largest functions. The
// named build differs slightly from the shipped one (names can change what wasm-opt merges):
// read its figures as shares of the code, and the shipped totals as the truth.
//
// Usage: node scripts/size-account.mjs [top functions, default 25]
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync } from 'node:fs';
import { gzipSync, brotliCompressSync, constants } from 'node:zlib';
import { join } from 'node:path';
import { homedir } from 'node:os';
import { builtFiles } from './lib/files.mjs';
import { WASM_OPT_FLAGS } from './lib/wasm-opt-flags.mjs';
import { markdownTable } from './lib/table.mjs';

const ROOT = join(import.meta.dirname, '..');
const top = Math.max(5, Math.min(200, Number(process.argv[2] ?? 25)));
const out = join(ROOT, 'target', 'size-account');
mkdirSync(out, { recursive: true });
const bin = (name) => join(homedir(), '.cargo', 'bin', name);
const cargoWasm = join(ROOT, 'target', 'wasm32-unknown-unknown', 'widget', 'edgechat_widget.wasm');

execFileSync(bin('wasm-bindgen'), ['--target', 'web', '--no-typescript', '--keep-debug', '--out-dir', out, '--out-name', 'named', cargoWasm]);
execFileSync(join(ROOT, 'node_modules', '.bin', 'wasm-opt'), [join(out, 'named_bg.wasm'), ...WASM_OPT_FLAGS, '-g', '--strip-dwarf', '-o', join(out, 'named.wasm')]);
const items = JSON.parse(execFileSync(bin('twiggy'), ['top', '-n', '1000000', '--format', 'json', join(out, 'named.wasm')], { maxBuffer: 256 << 20 }));

/** The crate an item's code belongs to: the first path segment of its (demangled) name. */
export function crateOf(name) {
  if (/^"function names"|^custom section|^"/.test(name)) return '(names, only in this build)';
  if (name.startsWith('data segment') || /^data\[\d+\]$/.test(name)) return '(data: strings, tables, CSS)';
  if (/shim|^__wbg|^__wbindgen|^__externref|^import /.test(name)) return '(wasm-bindgen glue and imports)';
  if (/^(table|elem|type|import|export|global|memory|code)\[/.test(name) || /^(table|elem)\b/.test(name)) return '(wasm structure)';
  // `<impl A for B>::f` and `<B as A>::f` count for the crate whose code it is: for a trait
  // implemented on our type that is our crate; the first path in the name is the best guess.
  const path = name.replace(/^(<|&|mut |dyn |\(|\[)+/, '').match(/^[A-Za-z_][A-Za-z0-9_]*/);
  let crate = path ? path[0] : '(other)';
  if (crate === 'impl') crate = (name.match(/for ([a-z_][a-z0-9_]*)::/) || [])[1] ?? '(other)';
  if (crate === 'T') crate = (name.match(/as ([a-z_][a-z0-9_]*)::/) || [])[1] ?? '(other)';
  return crate;
}

const kib = (n) => `${(n / 1024).toFixed(1)} KiB`;
const shipped = readFileSync(join(ROOT, builtFiles().wasm));
const glue = readFileSync(join(ROOT, builtFiles().module));
const sizes = (bytes) => ({
  raw: bytes.length,
  gzip: gzipSync(bytes, { level: 9 }).length,
  brotli: brotliCompressSync(bytes, { params: { [constants.BROTLI_PARAM_QUALITY]: 11 } }).length,
});
const [wasmSizes, glueSizes] = [sizes(shipped), sizes(glue)];
const row = (file, s) => ({ file, raw: kib(s.raw), gzip: kib(s.gzip), brotli: kib(s.brotli) });
console.log('\nThe shipped widget on open (each file compressed on its own, as served; the account below is of a copy built with names):');
markdownTable([
  row('wasm (CSS inside)', wasmSizes),
  row('JS glue', glueSizes),
  row('together', { raw: wasmSizes.raw + glueSizes.raw, gzip: wasmSizes.gzip + glueSizes.gzip, brotli: wasmSizes.brotli + glueSizes.brotli }),
]);

const byCrate = new Map();
let total = 0;
for (const item of items) {
  const crate = crateOf(item.name);
  const entry = byCrate.get(crate) ?? { bytes: 0, items: 0 };
  entry.bytes += item.shallow_size;
  entry.items += 1;
  byCrate.set(crate, entry);
  total += item.shallow_size;
}
const names = byCrate.get('(names, only in this build)')?.bytes ?? 0;
const counted = total - names;
console.log(`\nBytes by crate in the named build (${kib(counted)} without its name section; shares of that):`);
markdownTable([...byCrate].filter(([c]) => !c.startsWith('(names')).sort((a, b) => b[1].bytes - a[1].bytes).slice(0, 20)
  .map(([crate, e]) => ({ crate, bytes: e.bytes, share: `${((100 * e.bytes) / counted).toFixed(1)}%`, items: e.items })));

console.log(`\nThe ${top} largest functions and data segments:`);
markdownTable(items.filter((i) => !crateOf(i.name).startsWith('(names')).slice(0, top)
  .map((i) => ({ bytes: i.shallow_size, item: i.name.replace(/::h[0-9a-f]{16}$/, '').replace(/\[[0-9a-f]+\]/g, '').replace(/\|/g, '\\|').slice(0, 140) })));
