/** Point bodies shared by the tests that send them. */

/** A valid PUT /location body: New York local time, so it lands at 2017-01-01T18:05:12Z. */
export const VALID_POINT = {
  timestamp: '2017-01-01 13:05:12',
  lat: 40.701,
  long: -73.916,
  accuracy: 11.3,
  speed: 1.4,
  user_id: 'a1',
} as const;
