/* Runs every scenario in its own process, one after the other, and prints their Markdown sections. */
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { ROOT } from './lib/processes.js';

const scenarios = (
  process.argv.slice(2).length
    ? process.argv.slice(2)
    : ['pipeline', 'replay', 'throughput', 'batch', 'memory']
).map((name) => path.join(ROOT, 'bench', `${name}.ts`));

console.log(`Run ${new Date().toISOString()}\n`);
for (const file of scenarios) {
  const result = spawnSync(process.execPath, ['--import', 'tsx', file], { stdio: 'inherit', cwd: ROOT });
  if (result.status !== 0) process.exit(result.status ?? 1);
  console.log('');
}
