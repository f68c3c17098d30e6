import { Type, type Static } from '@sinclair/typebox';

/**
 * The request Overland sends. Points are checked one by one (see OverlandLocationSchema), so that one bad point does
 * not make Overland resend the whole batch forever.
 */
export const OverlandBodySchema = Type.Object(
  {
    locations: Type.Array(
      Type.Unknown({ description: 'A GeoJSON Point Feature (OverlandLocation); an invalid one is skipped.' }),
    ),
  },
  {
    description:
      'Overland batch (https://github.com/aaronpk/Overland-iOS#api); `current` and `trip` are ignored.',
  },
);

/**
 * One Overland point: its shape and its members' types. Their values (the timestamp's format, the ranges, the user
 * id) are checked once, by the composer, with PUT /location's rules. Properties Locus does not read (altitude,
 * motion, battery…) are ignored.
 */
export const OverlandLocationSchema = Type.Object({
  type: Type.Literal('Feature'),
  geometry: Type.Object({
    type: Type.Literal('Point'),
    coordinates: Type.Array(Type.Number(), {
      minItems: 2,
      maxItems: 3,
      description: '[longitude, latitude] (GeoJSON order), degrees; an altitude may follow.',
    }),
  }),
  properties: Type.Object({
    timestamp: Type.String({ description: "As PUT /location's `timestamp`; Overland sends an offset." }),
    horizontal_accuracy: Type.Optional(Type.Number({ description: 'Metres.' })),
    // Negative is allowed: Core Location reports an unknown speed as -1, which Locus stores as unknown.
    speed: Type.Optional(Type.Number({ description: 'Metres per second; negative means unknown.' })),
    device_id: Type.Optional(
      Type.String({ description: 'The user id; empty or absent falls back to `?user=`.' }),
    ),
  }),
});

export type OverlandLocation = Static<typeof OverlandLocationSchema>;

export const OverlandQuerySchema = Type.Object({
  user: Type.Optional(
    Type.String({
      format: 'user-id',
      minLength: 1,
      maxLength: 128,
      description: 'User id for points whose `device_id` is empty or absent.',
    }),
  ),
  token: Type.Optional(Type.String({ description: "Overland's access token; not checked yet." })),
});

export const OverlandResultSchema = Type.Object({
  result: Type.Literal('ok', { description: 'What Overland waits for before it drops the points.' }),
  stored: Type.Integer(),
  duplicates: Type.Integer(),
  rejected: Type.Integer({ description: 'Invalid points, skipped (and logged).' }),
});
