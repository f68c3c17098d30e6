import { Type } from '@sinclair/typebox';

const Param = (description: string) => Type.Optional(Type.String({ description }));

/**
 * The parameters of the OsmAnd / GPSLogger "custom URL" protocol, for the API description. They are all text; the
 * OsmAnd mapping (src/ingest/apps/osmand.ts) reads them, because a POST may carry them in a form body too and
 * an empty value means "not sent".
 */
export const OsmAndQuerySchema = Type.Object({
  id: Param('User id (required; `deviceid` is read too).'),
  lat: Param('Latitude, degrees (required).'),
  lon: Param('Longitude, degrees (required; `long` is read too).'),
  timestamp: Param(
    'Time of the fix (required): seconds since the Unix epoch, milliseconds since the epoch (any value from ' +
      '10,000,000,000 on, as OsmAnd sends), or ISO 8601 (`2017-01-01T18:05:12Z`; without an offset, the zone at ' +
      'the position).',
  ),
  speed: Param('Metres per second, as OsmAnd `{5}` and GPSLogger `%SPD` send it (`spd` is read too).'),
  accuracy: Param(
    'Horizontal accuracy, metres (`acc`, as GPSLogger sends it, and `hdop`, which OsmAnd `{3}` fills with ' +
      'the accuracy in metres, are read too, in that order).',
  ),
});
