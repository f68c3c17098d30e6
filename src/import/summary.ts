import type { FieldError } from '../ingest/point.js';
import type { ImportFormat } from './readers/index.js';
import type { RecordPosition } from './types.js';

/*
 * What an import did, per file: the counts the issue asks for, kept as the import goes, and printed at the end as
 * text or as JSON. The JSON field names are part of the CLI's interface (scripts read them): change them only
 * with a note in the README.
 */

/** How a file's import ended. */
export type FileStatus = 'done' | 'unreadable' | 'store-failed' | 'interrupted';

/** Rejected points that share a field and a reason (the message without the value that differs each time). */
export interface RejectionReason {
  field: string;
  reason: string;
  count: number;
  /** Where the first such point is: `file:line` or `file#item`. */
  first_at: string;
}

/** One rejected record, with every field at fault and the full messages. */
export interface RejectionExample {
  at: string;
  errors: FieldError[];
}

export interface FileSummary {
  file: string;
  /** The format read (detected or forced); null when none could be found. */
  format: ImportFormat | null;
  status: FileStatus;
  /** Why the file could not be read or the import stopped; null when it was read to the end. */
  error: string | null;
  /** Records read from the file: points and broken records alike. */
  read: number;
  stored: number;
  duplicates: number;
  rejected: number;
  rejected_by_reason: RejectionReason[];
  /** The first rejected records, in file order. */
  rejected_examples: RejectionExample[];
  /** Valid points without an accuracy or a speed: the minute means are taken over the points that have one. */
  missing_accuracy: number;
  missing_speed: number;
  elapsed_ms: number;
  /** Records read per second of this file's import. */
  points_per_second: number;
}

/** Distinct reasons kept per file; a file with more (each message unique) lumps the rest together. */
export const MAX_REASONS = 50;
export const OTHER_REASON = '(other reasons)';

/** Where a record is, the way a user finds it again: `trace.csv:12` (line) or `track.gpx#3` (0-based item). */
export function positionText(file: string, at: RecordPosition): string {
  return 'line' in at ? `${file}:${at.line}` : `${file}#${at.item}`;
}

/**
 * A message without the part that names the value: `must be ≤ 90, got 91` and `is not a real time: day of …` are
 * one reason however many values fail them.
 */
export function reasonOf(message: string): string {
  return message.replace(/, got .*$/s, '').replace(/: .*$/s, '');
}

/** The counts of one file's import, kept as records go by. */
export class FileTally {
  read = 0;
  stored = 0;
  duplicates = 0;
  rejected = 0;
  missingAccuracy = 0;
  missingSpeed = 0;
  format: ImportFormat | null = null;
  readonly #reasons = new Map<string, RejectionReason>();
  readonly #examples: RejectionExample[] = [];
  readonly #began = performance.now();

  constructor(
    readonly file: string,
    readonly maxExamples = 10,
  ) {}

  /** A record that will not be stored, with why. Counts once per record, and once per field at fault. */
  reject(at: RecordPosition, errors: readonly FieldError[]): void {
    this.rejected++;
    const where = positionText(this.file, at);
    for (const error of errors) this.#countReason(error, where);
    if (this.#examples.length < this.maxExamples) this.#examples.push({ at: where, errors: [...errors] });
  }

  #countReason(error: FieldError, where: string): void {
    let reason = reasonOf(error.message);
    let key = `${error.field}\u0000${reason}`;
    if (!this.#reasons.has(key) && this.#reasons.size >= MAX_REASONS - 1) {
      reason = OTHER_REASON;
      key = `${error.field}\u0000${OTHER_REASON}`;
    }
    const known = this.#reasons.get(key);
    if (known) known.count++;
    else this.#reasons.set(key, { field: error.field, reason, count: 1, first_at: where });
  }

  summary(status: FileStatus, error: string | null = null): FileSummary {
    const elapsedMs = performance.now() - this.#began;
    return {
      file: this.file,
      format: this.format,
      status,
      error,
      read: this.read,
      stored: this.stored,
      duplicates: this.duplicates,
      rejected: this.rejected,
      rejected_by_reason: [...this.#reasons.values()].sort((a, b) => b.count - a.count),
      rejected_examples: this.#examples,
      missing_accuracy: this.missingAccuracy,
      missing_speed: this.missingSpeed,
      elapsed_ms: Math.round(elapsedMs),
      points_per_second: perSecond(this.read, elapsedMs),
    };
  }
}

function perSecond(count: number, elapsedMs: number): number {
  return elapsedMs > 0 ? Math.round((count * 1000) / elapsedMs) : 0;
}

/** The sums over all files. */
export interface ImportTotals {
  files: number;
  unreadable: number;
  read: number;
  stored: number;
  duplicates: number;
  rejected: number;
  missing_accuracy: number;
  missing_speed: number;
  elapsed_ms: number;
  points_per_second: number;
}

export function totalsOf(files: readonly FileSummary[], elapsedMs: number): ImportTotals {
  const sum = (pick: (f: FileSummary) => number) => files.reduce((total, f) => total + pick(f), 0);
  const read = sum((f) => f.read);
  return {
    files: files.length,
    unreadable: files.filter((f) => f.status === 'unreadable').length,
    read,
    stored: sum((f) => f.stored),
    duplicates: sum((f) => f.duplicates),
    rejected: sum((f) => f.rejected),
    missing_accuracy: sum((f) => f.missing_accuracy),
    missing_speed: sum((f) => f.missing_speed),
    elapsed_ms: Math.round(elapsedMs),
    points_per_second: perSecond(read, elapsedMs),
  };
}

const count = (n: number) => n.toLocaleString('en-US');

/** A file's summary for people, a few aligned lines. */
export function fileSummaryText(summary: FileSummary): string {
  const lines = [`${summary.file} (${summary.format ?? 'unknown format'}): ${statusText(summary)}`];
  if (summary.status === 'unreadable' && summary.read === 0) return `${lines[0]}\n`;
  lines.push(`  read        ${count(summary.read)}`);
  lines.push(`  stored      ${count(summary.stored)}`);
  lines.push(`  duplicates  ${count(summary.duplicates)}`);
  lines.push(`  rejected    ${count(summary.rejected)}`);
  for (const r of summary.rejected_by_reason) {
    lines.push(`    ${count(r.count)} × ${r.field}: ${r.reason} (first at ${r.first_at})`);
  }
  for (const example of summary.rejected_examples) {
    const errors = example.errors.map((e) => `${e.field}: ${e.message}`).join('; ');
    lines.push(`    e.g. ${example.at}  ${errors}`);
  }
  if (summary.missing_accuracy > 0 || summary.missing_speed > 0) {
    lines.push(
      `  no accuracy ${count(summary.missing_accuracy)}, no speed ${count(summary.missing_speed)} ` +
        '(minute means are taken over the points that have one)',
    );
  }
  lines.push(`  elapsed     ${(summary.elapsed_ms / 1000).toFixed(2)} s`);
  lines.push(`  points/s    ${count(summary.points_per_second)}`);
  return `${lines.join('\n')}\n`;
}

function statusText(summary: FileSummary): string {
  switch (summary.status) {
    case 'done':
      return 'done';
    case 'interrupted':
      return 'interrupted (run the same command again to finish: what is stored already counts as duplicates)';
    default:
      return `${summary.status === 'unreadable' ? 'not read' : 'stopped'}: ${summary.error ?? ''}`;
  }
}

export function totalsText(totals: ImportTotals): string {
  return (
    `total: ${totals.files} file(s), ${count(totals.read)} read, ${count(totals.stored)} stored, ` +
    `${count(totals.duplicates)} duplicates, ${count(totals.rejected)} rejected, ` +
    `${(totals.elapsed_ms / 1000).toFixed(2)} s, ${count(totals.points_per_second)} points/s\n`
  );
}
