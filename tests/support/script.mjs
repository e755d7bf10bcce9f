// Runs one of the project's Node scripts (scripts/<name>.mjs) in its own process, with only the
// environment given, and resolves with its exit code and everything it printed; killed (and the
// test failed) when it runs longer than `ms`.
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { ROOT } from './worker.mjs';

export function runScript(name, args, { env = {}, cwd = ROOT, ms = 60_000 } = {}) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [join(ROOT, 'scripts', `${name}.mjs`), ...args], {
      cwd, env: { PATH: process.env.PATH, HOME: process.env.HOME, ...env }, stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (d) => { out += d; });
    child.stderr.on('data', (d) => { out += d; });
    const timer = setTimeout(() => { child.kill(); reject(new Error(`${name} did not finish in ${ms / 1000} s:\n${out}`)); }, ms);
    child.on('exit', (code) => { clearTimeout(timer); resolve({ code, out }); });
  });
}
