import os from 'node:os';

/** The machine beside the numbers: results from different machines are not comparable. */
export function machine(): string {
  const cpus = os.cpus();
  return [
    `${cpus.length} × ${cpus[0]?.model ?? 'unknown CPU'}`,
    `${Math.round(os.totalmem() / 2 ** 30)} GiB`,
    `Node.js ${process.version}`,
    `${os.type()} ${os.release()}`,
    `load average ${os
      .loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')}`,
  ].join(', ');
}

export function table(header: string[], rows: Array<Array<string | number>>): string {
  const line = (cells: Array<string | number>) => `| ${cells.join(' | ')} |`;
  return [line(header), line(header.map(() => '---')), ...rows.map(line)].join('\n');
}

export const ratio = (value: number, baseline: number): string => (value / baseline).toFixed(2);
export const round = (value: number): number => Math.round(value);
