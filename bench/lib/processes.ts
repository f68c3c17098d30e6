import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

export interface Server {
  url: string;
  child: ChildProcess;
  /** Peak resident memory so far (VmHWM), in MiB. */
  peakRssMiB: () => number;
  stop: () => Promise<void>;
}

async function waitUntilUp(url: string, child: ChildProcess): Promise<void> {
  for (let attempt = 0; attempt < 300; attempt++) {
    if (child.exitCode !== null) throw new Error(`${url}: server exited with ${child.exitCode}`);
    const up = await fetch(`${url}/healthz`).then(
      (r) => r.status < 500,
      () => false,
    );
    if (up) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`${url}: server did not come up`);
}

function peakRssMiB(pid: number | undefined): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kib = Number(/VmHWM:\s+(\d+)/.exec(status)?.[1] ?? 0);
  return kib / 1024;
}

async function start(args: string[], port: number, env: NodeJS.ProcessEnv, cwd = ROOT): Promise<Server> {
  const child = spawn(process.execPath, args, {
    cwd,
    env: { ...process.env, ...env, PORT: String(port), HOST: '127.0.0.1' },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const url = `http://127.0.0.1:${port}`;
  await waitUntilUp(url, child);
  return {
    url,
    child,
    peakRssMiB: () => peakRssMiB(child.pid),
    stop: async () => {
      if (child.exitCode !== null) return;
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await exited;
    },
  };
}

/** The baseline: node:http reading and parsing the JSON body, nothing else. */
export function startBare(port: number): Promise<Server> {
  return start(['--import', 'tsx', path.join(ROOT, 'bench/bare-server.ts')], port, {});
}

/**
 * Locus as `npm start` runs it (the compiled build), with the given settings and options for node itself. `root`
 * is the package whose build is started (run from that folder): this repository unless another checkout is given,
 * as bench/ab.ts does for the build before a change.
 */
export function startLocus(
  port: number,
  env: NodeJS.ProcessEnv = {},
  nodeOptions: string[] = [],
  root: string = ROOT,
): Promise<Server> {
  return start(
    [...nodeOptions, path.join(root, 'dist/src/cli/main.js'), 'serve'],
    port,
    { LOG_LEVEL: 'info', ...env },
    root,
  );
}
