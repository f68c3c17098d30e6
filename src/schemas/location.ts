import { Type } from '@sinclair/typebox';
import { MAX_ACCURACY_M, MAX_SPEED_MPS, MAX_USER_ID_LENGTH } from '../ingest/limits.js';

/** One point as a device sends it to PUT /location. Extra properties are allowed and ignored. */
export const LocationSchema = Type.Object(
  {
    timestamp: Type.String({
      format: 'device-timestamp',
      description:
        'Device wall time `YYYY-MM-DD HH:MM:SS[.fffffffff]` (`T` may replace the space). Without an offset the zone ' +
        'is the one at (lat, long); with `Z`, `+02:00` or `-0500` the offset is used as given.',
      examples: ['2017-01-01 13:05:12'],
    }),
    lat: Type.Number({ minimum: -90, maximum: 90, description: 'Latitude, degrees (WGS 84).' }),
    long: Type.Number({ minimum: -180, maximum: 180, description: 'Longitude, degrees (WGS 84).' }),
    accuracy: Type.Number({
      minimum: 0,
      maximum: MAX_ACCURACY_M,
      description: 'Horizontal accuracy, metres.',
    }),
    speed: Type.Number({ minimum: 0, maximum: MAX_SPEED_MPS, description: 'Speed, metres per second.' }),
    user_id: Type.String({
      format: 'user-id',
      minLength: 1,
      // Code points, as Ajv counts them. The composer checks the id in its NFC form, so the length is counted
      // after normalisation (some characters decompose under NFC: U+0958 is two code points).
      maxLength: MAX_USER_ID_LENGTH,
      description:
        '1–128 characters (code points, in Unicode NFC), no control characters, no format or bidi characters ' +
        '(category Cf: U+200B, U+202E…), not `.` or `..`. The user is the id in NFC: `Ä` sent composed and as ' +
        '`A` + U+0308 are one user.',
    }),
  },
  { description: 'One location fix.' },
);

/** What became of one point: the 200 answer of PUT /location and of the one-point app formats. */
export const StoredAnswerSchema = Type.Object({
  status: Type.Union([Type.Literal('stored'), Type.Literal('duplicate')], {
    description: '`stored` the first time this (user_id, UTC instant) is seen; `duplicate` every later time.',
  }),
  user_id: Type.String(),
  timestamp_utc: Type.String({ format: 'date-time', examples: ['2017-01-01T18:05:12.000Z'] }),
  minute: Type.String({ format: 'date-time', examples: ['2017-01-01T18:05:00.000Z'] }),
});
