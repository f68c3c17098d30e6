#!/usr/bin/env node
// Bundles the dashboard (web/) into dist/web/: app.js, app.css (Leaflet's and uPlot's styles included, their
// images inlined) and index.html. Everything the page needs is in those files, so it runs without any network but
// the Locus that serves it. Usage: node scripts/build-web.js [--outdir DIR] [--dev]
import { copyFile, mkdir } from 'node:fs/promises';
import process from 'node:process';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { build } from 'esbuild';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');

/** Builds the dashboard into `outdir`; `dev` keeps it readable and adds a source map. */
export async function buildWeb({ outdir = join(root, 'dist', 'web'), dev = false } = {}) {
  await mkdir(outdir, { recursive: true });
  await build({
    absWorkingDir: root,
    entryPoints: { app: 'web/main.ts' },
    outdir,
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: ['es2022'],
    minify: !dev,
    sourcemap: dev ? 'linked' : false,
    // Leaflet's CSS points at a few small PNGs; inlined, they need no extra requests and no extra files.
    loader: { '.png': 'dataurl', '.svg': 'dataurl' },
    legalComments: 'eof', // the libraries' licence notices travel inside the bundle
    logLevel: 'warning',
  });
  await copyFile(join(root, 'web', 'index.html'), join(outdir, 'index.html'));
  return outdir;
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  const args = process.argv.slice(2);
  const at = args.indexOf('--outdir');
  const outdir = at >= 0 ? resolve(args[at + 1] ?? '') : undefined;
  const written = await buildWeb({ outdir, dev: args.includes('--dev') });
  process.stdout.write(`dashboard built into ${written}\n`);
}
