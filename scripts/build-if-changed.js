#!/usr/bin/env node
// `npm start`'s build: compiles the server (tsc) and bundles the dashboard (scripts/build-web.js) only when their
// inputs changed since the last build, so that starting an unchanged tree costs no build. A part is rebuilt when
// any of its inputs (files, and directories, whose time changes when a file is added, removed or renamed) is newer
// than its stamp in dist/, or its output is missing. `npm run build` always builds everything.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import process from 'node:process';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');

/** The newest modification time of the paths, walking directories (skipping nothing but missing paths). */
function newest(paths) {
  let latest = 0;
  for (const path of paths) {
    let stat;
    try {
      stat = statSync(path);
    } catch {
      continue;
    }
    latest = Math.max(latest, stat.mtimeMs);
    if (stat.isDirectory()) latest = Math.max(latest, newest(readdirSync(path).map((n) => join(path, n))));
  }
  return latest;
}

function stampTime(stamp) {
  try {
    return statSync(stamp).mtimeMs;
  } catch {
    return -1;
  }
}

const parts = [
  {
    name: 'server',
    inputs: ['src', 'tsconfig.json', 'tsconfig.build.json', 'package-lock.json'],
    output: 'dist/src/cli/main.js',
    stamp: 'dist/.build-server',
    build: () =>
      execFileSync(
        process.execPath,
        [join(root, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.build.json'],
        { cwd: root, stdio: 'inherit' },
      ),
  },
  {
    name: 'dashboard',
    inputs: ['web', 'scripts/build-web.js', 'package-lock.json'],
    output: 'dist/web/index.html',
    stamp: 'dist/.build-web',
    build: () =>
      execFileSync(process.execPath, [join(root, 'scripts/build-web.js')], {
        cwd: root,
        stdio: ['ignore', 'ignore', 'inherit'],
      }),
  },
];

for (const part of parts) {
  const stamp = join(root, part.stamp);
  // The time is taken before building, so that an edit made during the build is seen next time.
  const began = Date.now();
  const stale =
    !existsSync(join(root, part.output)) || newest(part.inputs.map((p) => join(root, p))) >= stampTime(stamp);
  if (!stale) continue;
  process.stderr.write(`locus: building the ${part.name}\n`);
  part.build();
  mkdirSync(dirname(stamp), { recursive: true });
  writeFileSync(stamp, `${new Date(began).toISOString()}\n`);
  utimesSync(stamp, began / 1000, began / 1000);
}
