// The widget's current files, by the names the build gave them (public/widget-manifest.json).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

const ROOT = join(import.meta.dirname, '..', '..');

/** Paths relative to the repository: { module, wasm, sdk, embed }. */
export function builtFiles() {
  const m = JSON.parse(readFileSync(join(ROOT, 'public', 'widget-manifest.json'), 'utf8'));
  return {
    module: `public/widget/${m.module}`,
    wasm: `public/widget/${m.wasm}`,
    sdk: `public/vendor/${m.sdk}`,
    embed: 'public/embed.js',
  };
}
