import { Type, type Static } from '@sinclair/typebox';
import { MAX_EPOCH_SECONDS, MAX_SPEED_KMH, MIN_EPOCH_SECONDS } from '../../ingest/limits.js';
import { LocationSchema } from '../location.js';

/** Any OwnTracks message: only `_type: "location"` is stored, every other type is accepted and ignored. */
export const OwnTracksMessageSchema = Type.Object(
  {
    _type: Type.String({
      description: '`location` is stored; `lwt`, `transition`, `waypoint`, `card`, `encrypted`… are ignored.',
    }),
  },
  {
    description:
      'An OwnTracks message (https://owntracks.org/booklet/tech/json/). A location needs `tst`, `lat`, `lon`; ' +
      '`acc` and `vel` are optional. User and device come from `X-Limit-U`/`X-Limit-D`, HTTP Basic or `topic`.',
    examples: [{ _type: 'location', tst: 1483290312, lat: 40.701, lon: -73.916, acc: 11, vel: 5, tid: 'a1' }],
  },
);

/** The fields of `_type: "location"` that Locus reads; the others (batt, alt, cog, tid…) are ignored. */
export const OwnTracksLocationSchema = Type.Object({
  _type: Type.Literal('location'),
  tst: Type.Number({
    minimum: MIN_EPOCH_SECONDS,
    maximum: MAX_EPOCH_SECONDS,
    description: 'Time of the fix, seconds since the Unix epoch (UTC).',
  }),
  lat: LocationSchema.properties.lat,
  lon: LocationSchema.properties.long,
  acc: Type.Optional(LocationSchema.properties.accuracy),
  // No lower bound: the iOS app reports an unknown speed as -1, which Locus stores as unknown.
  vel: Type.Optional(
    Type.Number({ maximum: MAX_SPEED_KMH, description: 'Speed, km/h; negative means unknown.' }),
  ),
  topic: Type.Optional(Type.String({ description: 'owntracks/USER/DEVICE, sent in HTTP mode.' })),
});

export type OwnTracksLocation = Static<typeof OwnTracksLocationSchema>;
