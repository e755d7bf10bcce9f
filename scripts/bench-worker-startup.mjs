// `npm run bench` (the Worker's start-up): what the Worker's size costs an isolate that starts
// cold: `WebAssembly.compile` of the built Worker wasm (worker/build/index_bg.wasm, as `wrangler
// deploy` uploads it) and `WebAssembly.instantiate` of the compiled module (its imports stubbed:
// instantiation links them, nothing calls them), each the median of N fresh runs, with the
// upload's size beside them. In headless Chromium's V8 rather than Node's: the Worker's wasm uses
// exception handling with exnref (`try_table`), which workerd's V8 runs and Node 20's refuses.
// Usage: node scripts/bench-worker-startup.mjs [runs, default 15]
import { readFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { join } from 'node:path';
import { markdownTable } from './lib/table.mjs';

const ROOT = new URL('..', import.meta.url).pathname;
const runs = Math.max(3, Math.min(50, Number(process.argv[2] ?? 15)));
const bytes = readFileSync(join(ROOT, 'worker', 'build', 'index_bg.wasm'));

const { launchIsolatedBrowser } = await import('../tests/support/browser.mjs');
const browser = await launchIsolatedBrowser();
let compile;
let instantiate;
try {
  const page = await browser.newPage();
  ({ compile, instantiate } = await page.evaluate(async ([b64, runs]) => {
    const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
    /** Imports that link: each function throws if called (nothing is, at instantiation). */
    const stubs = (module) => {
      const imports = {};
      for (const { module: from, name, kind } of WebAssembly.Module.imports(module)) {
        imports[from] ??= {};
        imports[from][name] = kind === 'function'
          ? () => { throw new Error(`${from}.${name} called during instantiation`); }
          : kind === 'memory' ? new WebAssembly.Memory({ initial: 17 })
            : kind === 'table' ? new WebAssembly.Table({ initial: 0, element: 'anyfunc' })
              : kind === 'tag' ? (WebAssembly.JSTag ?? new WebAssembly.Tag({ parameters: ['externref'] }))
                : new WebAssembly.Global({ value: 'i32', mutable: true }, 0);
      }
      return imports;
    };
    const out = { compile: [], instantiate: [] };
    for (let i = 0; i < runs; i++) {
      // A fresh copy each run: V8 caches nothing across distinct buffers.
      const copy = new Uint8Array(bytes);
      let t = performance.now();
      const module = await WebAssembly.compile(copy);
      out.compile.push(performance.now() - t);
      const imports = stubs(module);
      t = performance.now();
      await WebAssembly.instantiate(module, imports);
      out.instantiate.push(performance.now() - t);
    }
    return out;
  }, [bytes.toString('base64'), runs]));
} finally {
  await browser.close();
}
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const ms = (x) => `${x.toFixed(1)} ms`;
console.log(`\nThe Worker's start-up (its wasm compiled and instantiated in headless Chromium's V8), medians of ${runs} runs:`);
markdownTable([{
  'wasm (raw)': `${(bytes.length / 1024).toFixed(1)} KiB`,
  'wasm (gzip)': `${(gzipSync(bytes, { level: 9 }).length / 1024).toFixed(1)} KiB`,
  'compile': ms(median(compile)),
  'instantiate': ms(median(instantiate)),
  'compile + instantiate': ms(median(compile.map((c, i) => c + instantiate[i]))),
}]);
