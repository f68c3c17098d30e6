import type Database from 'better-sqlite3';
import { aggregate } from '../minutes.js';
import type { IngestOutcome, Point } from '../../ingest/point.js';

/** The two statements an ingest runs; prepared with the others in sqlite-db.ts. */
export interface IngestStatements {
  /** (user_id, ts_ms); changes 0 when the key was already there. */
  insertDedupeKey: Database.Statement<[string, number]>;
  /** (user_id, minute_ms, then the twelve sums in MinuteSums order), adding into an existing row. */
  upsertMinute: Database.Statement<UpsertParams>;
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

/** A synchronous batch ingest on one connection: one IMMEDIATE transaction per call. */
export type IngestBatch = (points: readonly Point[]) => IngestOutcome[];

export function createIngestBatch(db: Database.Database, statements: IngestStatements): IngestBatch {
  const { insertDedupeKey, upsertMinute } = statements;
  const transaction = db.transaction((points: readonly Point[]): IngestOutcome[] => {
    const stored: Point[] = [];
    const outcomes = points.map((point): IngestOutcome => {
      // The key insert is the dedupe check: it is atomic with the sums below, and it sees keys inserted earlier
      // in this same batch, so the first occurrence wins wherever its repeat comes from.
      if (insertDedupeKey.run(point.userId, point.tsMs).changes === 0) return 'duplicate';
      stored.push(point);
      return 'stored';
    });
    // Positional parameters: binding a dozen named ones from an object cost a fifth of the upsert's CPU time.
    for (const { userId, minuteMs, sums: s } of aggregate(stored)) {
      upsertMinute.run(
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
    }
    return outcomes;
  });
  // IMMEDIATE takes the write lock up front: a deferred transaction that read first could hit SQLITE_BUSY on
  // upgrading, which the busy timeout cannot wait out.
  return (points) => transaction.immediate(points);
}
