import type Database from 'better-sqlite3';
import { aggregate, type MinuteAggregate } from '../minutes.js';
import type { IngestOutcome, Point } from '../../ingest/point.js';

/** The statements an ingest runs; prepared with the others in sqlite-db.ts. */
export interface IngestStatements {
  /** (user_id, ts_ms); changes 0 when the key was already there. */
  insertDedupeKey: Database.Statement<[string, number]>;
  /**
   * (user_id, minute_ms, then the twelve sums in MinuteSums order), adding into an existing row; returns the row's
   * samples after the change, which equal the added samples exactly when the row is new.
   */
  upsertMinute: Database.Statement<UpsertParams, number>;
  /** The version the next change of user totals gets: one more than the largest. */
  nextTotalsVersion: Database.Statement<[], number>;
  /** (user_id, new minutes, samples, first minute, last minute, version), adding into an existing row. */
  upsertTotals: Database.Statement<TotalsParams>;
}

export type UpsertParams = [
  userId: string,
  minuteMs: number,
  samples: number,
  latSum: number,
  longSum: number,
  longMin: number,
  longMax: number,
  longEastSum: number,
  longEastMin: number,
  longEastMax: number,
  accuracySum: number,
  accuracyCount: number,
  speedSum: number,
  speedCount: number,
];

export type TotalsParams = [
  userId: string,
  minutes: number,
  samples: number,
  firstMinuteMs: number,
  lastMinuteMs: number,
  version: number,
];

/** What one ingest adds to a user's totals. */
interface TotalsChange {
  minutes: number;
  samples: number;
  firstMinuteMs: number;
  lastMinuteMs: number;
}

/** A synchronous batch ingest on one connection: one IMMEDIATE transaction per call. */
export type IngestBatch = (points: readonly Point[]) => IngestOutcome[];

/** Adds the minute's sums to its row; true when the row is new. */
function upsertMinute(statement: IngestStatements['upsertMinute'], minute: MinuteAggregate): boolean {
  const { userId, minuteMs, sums: s } = minute;
  // Positional parameters: binding a dozen named ones from an object cost a fifth of the upsert's CPU time.
  const samplesAfter = statement.get(
    userId,
    minuteMs,
    s.samples,
    s.latSum,
    s.longSum,
    s.longMin,
    s.longMax,
    s.longEastSum,
    s.longEastMin,
    s.longEastMax,
    s.accuracySum,
    s.accuracyCount,
    s.speedSum,
    s.speedCount,
  );
  return samplesAfter === s.samples;
}

function addToTotals(changes: Map<string, TotalsChange>, minute: MinuteAggregate, isNew: boolean): void {
  const { userId, minuteMs, sums } = minute;
  const change = changes.get(userId);
  if (!change) {
    changes.set(userId, {
      minutes: isNew ? 1 : 0,
      samples: sums.samples,
      firstMinuteMs: minuteMs,
      lastMinuteMs: minuteMs,
    });
    return;
  }
  if (isNew) change.minutes += 1;
  change.samples += sums.samples;
  change.firstMinuteMs = Math.min(change.firstMinuteMs, minuteMs);
  change.lastMinuteMs = Math.max(change.lastMinuteMs, minuteMs);
}

export function createIngestBatch(db: Database.Database, statements: IngestStatements): IngestBatch {
  const { insertDedupeKey, nextTotalsVersion, upsertTotals } = statements;
  const transaction = db.transaction((points: readonly Point[]): IngestOutcome[] => {
    const stored: Point[] = [];
    const outcomes = points.map((point): IngestOutcome => {
      // The key insert is the dedupe check: it is atomic with the sums below, and it sees keys inserted earlier
      // in this same batch, so the first occurrence wins wherever its repeat comes from.
      if (insertDedupeKey.run(point.userId, point.tsMs).changes === 0) return 'duplicate';
      stored.push(point);
      return 'stored';
    });
    if (stored.length === 0) return outcomes;
    const changes = new Map<string, TotalsChange>();
    for (const minute of aggregate(stored)) {
      addToTotals(changes, minute, upsertMinute(statements.upsertMinute, minute));
    }
    // The totals change in the same transaction as the minutes, so they always agree with them.
    const version = nextTotalsVersion.get() as number;
    for (const [userId, c] of changes) {
      upsertTotals.run(userId, c.minutes, c.samples, c.firstMinuteMs, c.lastMinuteMs, version);
    }
    return outcomes;
  });
  // IMMEDIATE takes the write lock up front: a deferred transaction that read first could hit SQLITE_BUSY on
  // upgrading, which the busy timeout cannot wait out.
  return (points) => transaction.immediate(points);
}
