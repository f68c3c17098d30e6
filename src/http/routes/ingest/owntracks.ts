import { Type } from '@sinclair/typebox';
import type { FastifyRequest } from 'fastify';
import {
  identityFromTopic,
  ownTracksToPoint,
  type OwnTracksIdentity,
} from '../../../ingest/apps/owntracks.js';
import { MAX_OWNTRACKS_BODY_BYTES } from '../../../ingest/limits.js';
import { OwnTracksMessageSchema } from '../../../schemas/apps/owntracks.js';
import { SECURITY } from '../../plugins/auth.js';
import { bufferParser, parseJsonBody } from '../../strict-body.js';
import type { LocusApp, LocusDeps } from '../../types.js';
import { ingestRoute, invalid } from './ingest-route.js';

/** The paths OwnTracks HTTP mode is pointed at: Locus's own, and the OwnTracks Recorder's conventional one. */
export const OWNTRACKS_PATHS = ['/owntracks', '/pub'] as const;

/** The app sends Basic credentials; a token in the header or the URL works as everywhere else. */
const OWNTRACKS_SECURITY: Array<Record<string, string[]>> = [
  { [SECURITY.basic]: [] },
  { [SECURITY.bearer]: [] },
  { [SECURITY.query]: [] },
];

const NoMessagesSchema = Type.Array(Type.Unknown(), {
  maxItems: 0,
  description: 'Messages for the app to show (friends, commands): always none.',
});

function header(request: FastifyRequest, name: string): string | undefined {
  const value = request.headers[name];
  return typeof value === 'string' && value !== '' ? value : undefined;
}

/**
 * The user name of HTTP Basic credentials. With authentication on, the password is the token, and the user name
 * must be the token's user (checked in ../auth.ts); without it, the password is ignored.
 */
export function basicAuthUser(authorization: string | undefined): string | undefined {
  const encoded = /^Basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(authorization ?? '')?.[1];
  if (encoded === undefined) return undefined;
  const decoded = Buffer.from(encoded, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  return (colon === -1 ? decoded : decoded.slice(0, colon)) || undefined;
}

type Candidate = [field: string, value: string | undefined];

/** The first candidate with a value, named by where it was found; the first candidate when none has one. */
function firstOf(first: Candidate, ...rest: Candidate[]): Candidate {
  return [first, ...rest].find(([, value]) => value !== undefined) ?? first;
}

/** User from X-Limit-U, else HTTP Basic, else the message's topic; device from X-Limit-D, else the topic. */
function identityOf(request: FastifyRequest, topic: unknown): OwnTracksIdentity {
  const fromTopic = identityFromTopic(typeof topic === 'string' ? topic : undefined);
  const [userField, user] = firstOf(
    ['X-Limit-U', header(request, 'x-limit-u')],
    ['Authorization', basicAuthUser(header(request, 'authorization'))],
    ['topic', fromTopic.user],
  );
  const [deviceField, device] = firstOf(
    ['X-Limit-D', header(request, 'x-limit-d')],
    ['topic', fromTopic.device],
  );
  return { user, device, userField, deviceField };
}

/** OwnTracks HTTP mode: POST /owntracks and POST /pub. */
export async function registerOwnTracksRoutes(app: LocusApp, deps: LocusDeps): Promise<void> {
  await app.register((scope: LocusApp, _options, registered) => {
    // The apps POST a zero-length body when a friend is deleted: a message to ignore, not malformed JSON.
    scope.removeContentTypeParser('application/json');
    scope.addContentTypeParser(
      'application/json',
      { parseAs: 'buffer' },
      bufferParser((body) => (body.length === 0 ? undefined : parseJsonBody(body))),
    );
    scope.addHook('preValidation', async (request, reply) => {
      if (request.body === undefined) await reply.send([]);
    });

    for (const url of OWNTRACKS_PATHS) {
      ingestRoute(scope, deps, {
        method: 'POST',
        url,
        bodyLimit: MAX_OWNTRACKS_BODY_BYTES,
        schema: {
          summary: `OwnTracks HTTP mode${url === '/pub' ? ' (the Recorder’s path)' : ''}`,
          ...(deps.authRequired ? { security: OWNTRACKS_SECURITY } : {}),
          description:
            'Stores `_type: "location"` messages and ignores the others; answers `[]` once the point is ' +
            'durable. `tst` is UTC; `vel` (km/h) is stored in m/s; missing `acc`/`vel` are stored as unknown.',
          body: OwnTracksMessageSchema,
        },
        answer: NoMessagesSchema,
        read(request) {
          // Fastify has checked the body against OwnTracksMessageSchema: an object with a `_type`.
          const message = request.body as Record<string, unknown>;
          const identity = identityOf(request, message.topic);
          const options = { oldestAcceptedMs: deps.oldestAcceptedMs() };
          const result = ownTracksToPoint(message, identity, deps.owntracksUserId, options);
          if (!result.ok) return invalid('The OwnTracks location cannot be stored.', result.errors);
          const noMessages: never[] = [];
          if (!result.value) return { kind: 'ignored', answer: noMessages };
          return { kind: 'points', points: [result.value], answer: () => noMessages };
        },
      });
    }
    registered();
  });
}
