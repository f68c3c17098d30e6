/*
 * Exports of a user's minutes as GeoJSON, CSV or GPX, streamed from the store page by page.
 *
 * `GET /users/{user_id}/locations` (users.ts) picks a format with `negotiateFormat` and hands exports to
 * `sendExport`. `registerExportRoutes` adds the same exports under a file-like URL,
 * `GET /users/{user_id}/locations.{geojson|csv|gpx}`, for links and `curl -O`.
 */
import { Readable } from 'node:stream';
import { Type, type Static, type TLiteral, type TUnion } from '@sinclair/typebox';
import type { FastifyReply } from 'fastify';
import {
  exportChunks,
  EXPORT_FORMAT_INFO,
  EXPORT_FORMATS,
  type ExportFormat,
} from '../../../export/formats.js';
import { openMinuteReader } from '../../../export/minutes.js';
import type { GroupCommitter } from '../../../store/group-commit.js';
import type { MinuteRange, Store } from '../../../store/store.js';
import type { LocusApp } from '../../types.js';
import type { AuthFlags } from '../../plugins/auth.js';
import { problem, sendProblem } from '../../problem.js';
import { userReadOf, userReadResponses } from './user-read.js';

export { EXPORT_FORMATS, type ExportFormat } from '../../../export/formats.js';

/** What a locations request can answer with: the paged JSON of the API, or one of the exports. */
export const RESPONSE_FORMATS = ['json', ...EXPORT_FORMATS] as const;
export type ResponseFormat = (typeof RESPONSE_FORMATS)[number];

/**
 * A string that is one of `values`. The union types it; the `enum` beside it repeats the values so that Ajv's first
 * error for a bad one reads "must be equal to one of the allowed values", not the union's "equal to constant".
 */
function oneOf<T extends string>(values: readonly T[], description: string): TUnion<Array<TLiteral<T>>> {
  return Type.Union(
    values.map((v) => Type.Literal(v)),
    { enum: [...values], description },
  );
}

/** The `format` query parameter; add it to the locations query schema. */
export const FormatQuerySchema = oneOf(
  RESPONSE_FORMATS,
  'json (default): pages of minutes. geojson, csv, gpx: the whole range as one streamed file. ' +
    'Wins over the Accept header (application/geo+json, text/csv, application/gpx+xml).',
);

// Media types a client may ask for, most specific first; application/vnd.geo+json is GeoJSON's pre-RFC name.
const ACCEPTABLE: ReadonlyArray<readonly [string, ResponseFormat]> = [
  ['application/json', 'json'],
  ['application/geo+json', 'geojson'],
  ['application/vnd.geo+json', 'geojson'],
  ['text/csv', 'csv'],
  ['application/gpx+xml', 'gpx'],
];

interface MediaRange {
  type: string;
  subtype: string;
  q: number;
  index: number;
}

function parseAccept(header: string): MediaRange[] {
  return header.split(',').flatMap((part, index) => {
    const [range = '', ...params] = part.split(';').map((s) => s.trim().toLowerCase());
    const [type, subtype] = range.split('/');
    if (!type || !subtype) return [];
    const qParam = params.find((p) => p.startsWith('q='));
    const q = qParam === undefined ? 1 : Number(qParam.slice(2));
    return Number.isFinite(q) && q > 0 && q <= 1 ? [{ type, subtype, q, index }] : [];
  });
}

/** How well `ranges` accept `mediaType`: the most specific matching range decides (RFC 9110 §12.5.1). */
function acceptance(
  ranges: MediaRange[],
  mediaType: string,
): { q: number; specificity: number; index: number } {
  const [type, subtype] = mediaType.split('/');
  let best = { q: 0, specificity: -1, index: Infinity };
  for (const r of ranges) {
    const specificity =
      r.type === type && r.subtype === subtype
        ? 2
        : r.type === type && r.subtype === '*'
          ? 1
          : r.type === '*'
            ? 0
            : -1;
    if (specificity > best.specificity) best = { q: r.q, specificity, index: r.index };
  }
  return best;
}

/**
 * The format to answer in: `?format=` wins; otherwise the Accept header's best supported type, ties going to the
 * type listed first, then to JSON. An Accept that allows none of them still gets JSON (RFC 9110 lets a server
 * disregard Accept), so browsers and old clients keep working.
 */
export function negotiateFormat(
  format: ResponseFormat | undefined,
  accept: string | undefined,
): ResponseFormat {
  if (format !== undefined) return format;
  if (!accept) return 'json';
  const ranges = parseAccept(accept);
  let chosen: { format: ResponseFormat; q: number; index: number } = {
    format: 'json',
    q: 0,
    index: Infinity,
  };
  for (const [mediaType, candidate] of ACCEPTABLE) {
    const { q, index } = acceptance(ranges, mediaType);
    if (q > chosen.q || (q === chosen.q && q > 0 && index < chosen.index))
      chosen = { format: candidate, q, index };
  }
  return chosen.format;
}

/** A compact UTC instant for file names: 20170101T180500Z. */
function fileInstant(ms: number): string {
  return new Date(ms)
    .toISOString()
    .replace(/\.\d{3}/, '')
    .replace(/[-:]/g, '');
}

/**
 * `attachment` with an ASCII `filename` any client understands and the exact name as `filename*` (RFC 6266,
 * RFC 8187) for those that read it. User ids may hold any character, quotes and slashes included.
 */
export function contentDisposition(userId: string, range: MinuteRange, format: ExportFormat): string {
  const parts = [
    'locus',
    userId,
    ...(range.fromMs === undefined ? [] : [`from-${fileInstant(range.fromMs)}`]),
    ...(range.toMs === undefined ? [] : [`to-${fileInstant(range.toMs)}`]),
  ];
  const name = `${parts.join('_')}.${EXPORT_FORMAT_INFO[format].extension}`;
  const ascii = name.replace(/[^\w.-]/g, '_');
  const encoded = encodeURIComponent(name).replace(
    /['()*]/g,
    (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`,
  );
  return `attachment; filename="${ascii}"; filename*=UTF-8''${encoded}`;
}

/**
 * Answers with the export of `userId`'s minutes in `range`, streamed page by page: memory stays flat however
 * many minutes there are, and a slow client slows the reads instead of filling a buffer. 404 problem for a user
 * with no data. A store failure after the first page has been sent can only cut the body short (the status is
 * gone by then); Fastify logs it and closes the connection, so the client sees an incomplete download, not a
 * complete-looking wrong one.
 */
/** Points that came in this recently make ingest busy: a phone's or a client's next request is usually that close. */
const INGEST_BUSY_WINDOW_MS = 100;

export async function sendExport(
  reply: FastifyReply,
  deps: ExportDeps,
  userId: string,
  range: MinuteRange,
  format: ExportFormat,
): Promise<FastifyReply> {
  // Ingest comes first: while points wait for their commit, an export paces itself (export/minutes.ts).
  const read = await openMinuteReader(deps.store, userId, range, {
    ingestBusy: () => deps.committer.busy(INGEST_BUSY_WINDOW_MS),
  });
  if (!read)
    return sendProblem(
      reply,
      problem('unknown-user', `There is no data for user ${JSON.stringify(userId)}.`),
    );
  return reply
    .header('content-type', EXPORT_FORMAT_INFO[format].contentType)
    .header('content-disposition', contentDisposition(userId, range, format))
    .header('x-content-type-options', 'nosniff')
    .send(Readable.from(exportChunks(format, read, userId)));
}

const ExportParamsSchema = Type.Object({
  user_id: Type.String({ format: 'user-id', minLength: 1, maxLength: 128 }),
  format: oneOf(EXPORT_FORMATS, 'The file format.'),
});

const ExportQuerySchema = Type.Object({
  from: Type.Optional(
    Type.String({ format: 'instant', description: 'Inclusive; ISO 8601 date or date-time.' }),
  ),
  to: Type.Optional(
    Type.String({ format: 'instant', description: 'Exclusive; ISO 8601 date or date-time.' }),
  ),
});

export type ExportQuery = Static<typeof ExportQuerySchema>;

// Documents the three bodies in OpenAPI; the body is a stream, so Fastify does not serialise it against these.
const EXPORT_BODIES = {
  description: 'The export, streamed; Content-Disposition names a file.',
  content: Object.fromEntries(
    EXPORT_FORMATS.map((f) => [EXPORT_FORMAT_INFO[f].mediaType, { schema: Type.String() }]),
  ),
};

/** What the export routes need from the app. */
export interface ExportDeps extends Partial<AuthFlags> {
  store: Pick<Store, 'minutes'>;
  /** Whether ingest is busy. */
  committer: Pick<GroupCommitter, 'busy'>;
}

export function registerExportRoutes(app: LocusApp, deps: ExportDeps): void {
  app.get(
    '/users/:user_id/locations.:format',
    {
      schema: {
        summary: "A user's minutes as a GeoJSON, CSV or GPX file",
        params: ExportParamsSchema,
        querystring: ExportQuerySchema,
        response: userReadResponses(EXPORT_BODIES, deps),
      },
    },
    async (request, reply) => {
      const read = userReadOf(request, reply);
      if (!('userId' in read)) return read;
      return sendExport(reply, deps, read.userId, read.range, request.params.format);
    },
  );
}
