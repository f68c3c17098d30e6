import { createReadStream } from 'node:fs';
import { parse } from 'csv-parse';

/** One CSV record as the server will receive it: numeric-looking cells as numbers, the rest as text. */
export type SimRow = Record<string, string | number>;

const NUMBER = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;

// The challenge's simulator sent numbers as JSON numbers; a cell that is not a number is sent as the text it is,
// so the server, not the simulator, decides that it is invalid.
function cell(value: string): string | number {
  return NUMBER.test(value) ? Number(value) : value;
}

/** Streams the records of one challenge-format CSV (`timestamp,lat,long,accuracy,speed,user_id`). */
export async function* readChallengeCsv(file: string): AsyncGenerator<SimRow> {
  const source = createReadStream(file);
  const parser = source.pipe(
    parse({ columns: true, skip_empty_lines: true, trim: true, cast: (value) => cell(value) }),
  );
  // pipe() does not forward the source's errors (a missing file); the loop below must see them.
  source.on('error', (error) => parser.destroy(error));
  for await (const record of parser) yield record as SimRow;
}

/** Every file's rows, merged into one list ordered by timestamp; rows with equal timestamps keep file order. */
export async function readMerged(files: readonly string[]): Promise<SimRow[]> {
  const rows: SimRow[] = [];
  for (const file of files) for await (const row of readChallengeCsv(file)) rows.push(row);
  // Array.prototype.sort is stable, so equal timestamps keep the order they were read in.
  return rows.sort((a, b) => {
    const ta = String(a.timestamp ?? '');
    const tb = String(b.timestamp ?? '');
    return ta < tb ? -1 : ta > tb ? 1 : 0;
  });
}

/**
 * Splits rows into `lanes` queues so that every user's rows stay in one queue, in order: sending the queues
 * concurrently keeps each user's order (and so which duplicate is first) while users proceed in parallel.
 */
export function laneByUser(rows: readonly SimRow[], lanes: number): SimRow[][] {
  const queues: SimRow[][] = Array.from({ length: lanes }, () => []);
  const laneOf = new Map<string, number>();
  for (const row of rows) {
    const user = String(row.user_id ?? '');
    let lane = laneOf.get(user);
    if (lane === undefined) {
      // Round-robin over users as they first appear spreads them evenly over the lanes.
      lane = laneOf.size % lanes;
      laneOf.set(user, lane);
    }
    queues[lane]?.push(row);
  }
  return queues.filter((queue) => queue.length > 0);
}
