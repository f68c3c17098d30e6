import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { FieldError, Result } from './point.js';
import fc from 'fast-check';
import { createAjv } from '../schemas/ajv.js';
import { LocationSchema } from '../schemas/location.js';
import { checkFix, fieldErrorsFromAjv, type FixFields } from './checks.js';

/** The fields stage under PUT /location's rules, as its callers see its verdict. */
function validateLocation(body: unknown): Result<FixFields> {
  const checked = checkFix(body, 'put');
  return checked.ok ? { ok: true, value: checked.value.fields } : checked;
}

const VALID = {
  timestamp: '2017-01-01 13:05:12',
  lat: 40.701,
  long: -73.916,
  accuracy: 11.3,
  speed: 1.4,
  user_id: 'a1',
};

function errorsOf(body: unknown): FieldError[] {
  const result = validateLocation(body);
  assert.ok(!result.ok, `expected ${JSON.stringify(body)} to be rejected`);
  return result.errors;
}

function onlyError(body: unknown): FieldError {
  const errors = errorsOf(body);
  assert.equal(errors.length, 1, JSON.stringify(errors));
  return errors[0] as FieldError;
}

const with_ = (field: string, value: unknown) => ({ ...VALID, [field]: value });

describe('validateLocation', () => {
  it('accepts the challenge example', () =>
    assert.deepEqual(validateLocation(VALID), { ok: true, value: VALID }));

  it('accepts the bounds of every range', () => {
    for (const [field, value] of [
      ['lat', -90],
      ['lat', 90],
      ['long', -180],
      ['long', 180],
      ['accuracy', 0],
      ['speed', 0],
      ['user_id', 'x'.repeat(128)],
      ['user_id', '🛰'.repeat(128)],
    ] as const) {
      assert.ok(validateLocation(with_(field, value)).ok, `${field}=${value}`);
    }
  });

  it('ignores unknown extra fields', () =>
    assert.ok(validateLocation({ ...VALID, battery: 0.5, extra: [1] }).ok));

  for (const field of Object.keys(VALID)) {
    it(`reports a missing ${field}`, () => {
      const body: Record<string, unknown> = { ...VALID };
      delete body[field];
      assert.deepEqual(onlyError(body), { field, message: 'is required' });
    });
  }

  for (const field of ['lat', 'long', 'accuracy', 'speed']) {
    for (const [value, got] of [
      ['40.7', 'a string'],
      [null, 'null'],
      [true, 'a boolean'],
      [[40.7], 'an array'],
      [{ value: 40.7 }, 'an object'],
    ] as const) {
      it(`rejects ${field} sent as ${got}`, () =>
        assert.deepEqual(onlyError(with_(field, value)), { field, message: `must be a number, not ${got}` }));
    }
  }

  for (const [field, value] of [
    ['lat', -90.000001],
    ['lat', 91],
    ['long', -180.5],
    ['long', 181],
    ['accuracy', -0.1],
    ['speed', -1],
    ['accuracy', 2e7 + 1],
    ['speed', 1e5 + 1],
    ['lat', Infinity],
    ['accuracy', Infinity],
    ['speed', -Infinity],
  ] as const) {
    it(`rejects ${field} = ${value} as out of range`, () => {
      const error = onlyError(with_(field, value));
      assert.equal(error.field, field);
      assert.match(error.message, /^must be ([≥≤] |a finite number, not -?Infinity)/);
    });
  }

  for (const [value, message] of [
    [12, 'must be a string, not a number'],
    ['', 'must have at least 1 character(s)'],
    ['x'.repeat(129), 'must have at most 128 characters'],
    ['a\u0000b', 'must not contain control characters (found U+0000)'],
    ['tab\there', 'must not contain control characters (found U+0009)'],
    ['line\n', 'must not contain control characters (found U+000A)'],
    ['c1\u0085', 'must not contain control characters (found U+0085)'],
    ['del\u007f', 'must not contain control characters (found U+007F)'],
    ['lone\ud800', 'must not contain unpaired surrogates (text that is not Unicode)'],
    ['alice\u200b', 'must not contain invisible format or bidi control characters (found U+200B)'],
    ['evil\u202Egpj.exe', 'must not contain invisible format or bidi control characters (found U+202E)'],
    ['a\u200e', 'must not contain invisible format or bidi control characters (found U+200E)'],
    ['\u2066isolate\u2069', 'must not contain invisible format or bidi control characters (found U+2066)'],
    ['a\u2069', 'must not contain invisible format or bidi control characters (found U+2069)'],
    ['\ufeffbom', 'must not contain invisible format or bidi control characters (found U+FEFF)'],
    ['soft\u00adhyphen', 'must not contain invisible format or bidi control characters (found U+00AD)'],
    ['tag\u{E0041}', 'must not contain invisible format or bidi control characters (found U+E0041)'],
    ['.', "must not be '.' or '..': URLs drop those path segments, so /users/{user_id}/… could not name it"],
    ['..', "must not be '.' or '..': URLs drop those path segments, so /users/{user_id}/… could not name it"],
  ] as const) {
    it(`rejects user_id ${JSON.stringify(value).slice(0, 20)}`, () =>
      assert.deepEqual(onlyError(with_('user_id', value)), { field: 'user_id', message }));
  }

  it('accepts ids with dots that are not a whole . or .. path segment', () => {
    for (const userId of ['...', '.a', 'a.', 'a..b', 'a/..', './a'])
      assert.ok(validateLocation(with_('user_id', userId)).ok, userId);
  });

  it('rejects a timestamp that is not a string', () =>
    assert.deepEqual(onlyError(with_('timestamp', 1483275912)), {
      field: 'timestamp',
      message: 'must be a string, not a number',
    }));

  it('says why a timestamp is not a real time', () =>
    assert.deepEqual(onlyError(with_('timestamp', '2017-02-30 12:00:00')), {
      field: 'timestamp',
      message: 'is not a real time: day of 2017-02 30 is out of range 1–28',
    }));

  it('says what a timestamp should look like', () =>
    assert.match(
      onlyError(with_('timestamp', '01/01/2017 13:05')).message,
      /must look like 'YYYY-MM-DD HH:MM:SS'/,
    ));

  it('says that a zone name is not read, and that offsets are', () => {
    for (const [timestamp, zone] of [
      ['2017-01-01 13:05:12 EST', 'EST'],
      ['2017-01-01T13:05:12[America/New_York]', 'America/New_York'],
      ['2017-01-01T13:05:12-05:00[America/New_York]', 'America/New_York'],
      ['2017-01-01 13:05:12 America/New_York', 'America/New_York'],
    ] as const) {
      assert.deepEqual(onlyError(with_('timestamp', timestamp)), {
        field: 'timestamp',
        message:
          `must not name a time zone ('${zone}'): the zone comes from the coordinates (lat, long); ` +
          'send the wall time alone, or with an offset (+02:00, -0500, Z)',
      });
    }
  });

  it('lists every problem, one per field', () => {
    const errors = errorsOf({
      timestamp: '2017-02-30 12:00:00',
      lat: '40',
      long: 200,
      speed: -1,
      user_id: '',
    });
    assert.deepEqual(
      errors.map((e) => e.field).sort(),
      ['accuracy', 'lat', 'long', 'speed', 'timestamp', 'user_id'].sort(),
    );
  });

  for (const [body, got] of [
    [null, 'null'],
    [[VALID], 'an array'],
    ['text', 'a string'],
    [42, 'a number'],
    [true, 'a boolean'],
  ] as const) {
    it(`rejects a body that is ${got}`, () =>
      assert.deepEqual(onlyError(body), { field: 'body', message: `must be an object, not ${got}` }));
  }

  describe('a missing field next to a key that looks like it', () => {
    for (const [sent, field] of [
      ['lng', 'long'],
      ['lon', 'long'],
      ['longitude', 'long'],
      ['Long', 'long'],
      ['longtitude', 'long'],
      ['latitude', 'lat'],
      ['lattitude', 'lat'],
      ['LAT', 'lat'],
      ['userId', 'user_id'],
      ['user', 'user_id'],
      ['user-id', 'user_id'],
      ['userid', 'user_id'],
      ['usr_id', 'user_id'],
      ['time', 'timestamp'],
      ['ts', 'timestamp'],
      ['timeStamp', 'timestamp'],
      ['timestmap', 'timestamp'],
      ['acc', 'accuracy'],
      ['accurancy', 'accuracy'],
      ['horizontal_accuracy', 'accuracy'],
      ['sped', 'speed'],
      ['velocity', 'speed'],
    ] as const) {
      it(`says \`${sent}\`: did you mean \`${field}\``, () => {
        const body: Record<string, unknown> = { ...VALID, [sent]: VALID[field] };
        delete body[field];
        assert.deepEqual(onlyError(body), {
          field,
          message: `is required (got \`${sent}\`: did you mean \`${field}\`?)`,
        });
      });
    }

    it('names the closest key, one per missing field', () => {
      const { lat, long, user_id, ...rest } = VALID;
      assert.deepEqual(errorsOf({ ...rest, lng: long, longitude: long, latitude: lat, userId: user_id }), [
        { field: 'lat', message: 'is required (got `latitude`: did you mean `lat`?)' },
        { field: 'long', message: 'is required (got `lng`: did you mean `long`?)' },
        { field: 'user_id', message: 'is required (got `userId`: did you mean `user_id`?)' },
      ]);
    });

    it('does not guess from keys that only share a few letters', () => {
      for (const [sent, field] of [
        ['alt', 'lat'],
        ['batt', 'lat'],
        ['bearing', 'speed'],
        ['x', 'long'],
        ['altitude', 'accuracy'],
        ['altitude', 'lat'],
        ['heading', 'speed'],
        [`lo${'_'.repeat(50)}ng`, 'long'],
      ] as const) {
        const body: Record<string, unknown> = { ...VALID, [sent]: 1 };
        delete body[field];
        assert.deepEqual(onlyError(body), { field, message: 'is required' }, sent);
      }
    });

    it('adds nothing when the field is there, or the key has another problem', () => {
      assert.ok(validateLocation({ ...VALID, lng: 1 }).ok);
      assert.deepEqual(onlyError({ ...VALID, lat: '1', latitude: 1 }), {
        field: 'lat',
        message: 'must be a number, not a string',
      });
    });
  });

  it('does not treat an inherited property as present', () => {
    const body = Object.create({ lat: 1 }) as Record<string, unknown>;
    Object.assign(body, { ...VALID });
    delete body.lat;
    assert.deepEqual(onlyError(body), { field: 'lat', message: 'is required' });
  });
});

describe('checkFix under PUT /location rules', () => {
  // The oracle: the whole documented schema (timestamp format included) in one Ajv pass, as Fastify validated
  // PUT bodies before the composer took over. checkFix parses the timestamp itself instead, once; its verdict,
  // messages and their order must be the same.
  const schemaCheck = createAjv('strict').compile(LocationSchema);
  const value = fc.oneof(
    fc.constant(undefined),
    fc.constant(null),
    fc.double(),
    fc.integer({ min: -200, max: 200 }),
    fc.string({ maxLength: 3 }),
    fc.constantFrom(
      '2017-01-01 13:05:12',
      '2017-13-01 13:05:12',
      '2017-01-01T13:05:12Z',
      '1800-01-01 00:00:00',
      'x',
    ),
    fc.boolean(),
    fc.constant([]),
    fc.constant({}),
  );
  const body = fc.record(
    { timestamp: value, lat: value, long: value, accuracy: value, speed: value, user_id: value },
    { requiredKeys: [] },
  );

  it('reports what one pass of the documented schema reports, in the same order', () => {
    fc.assert(
      fc.property(fc.oneof(body, value), (raw) => {
        const expected = schemaCheck(raw)
          ? { ok: true, value: raw }
          : { ok: false, errors: fieldErrorsFromAjv(schemaCheck.errors ?? []) };
        assert.deepEqual(validateLocation(raw), expected);
      }),
      { numRuns: 20_000 },
    );
  });

  // Unknown keys only add "did you mean" to the missing fields they look like: the oracle is the verdict without
  // them, and a hint must name a key that was added and the field it is reported on.
  const extraKey = fc.oneof(
    fc.constantFrom(
      'lng',
      'lon',
      'latitude',
      'lattitude',
      'userId',
      'user',
      'time',
      'ts',
      'acc',
      'sped',
      'Lat',
    ),
    fc.constantFrom('alt', 'altitude', 'battery', 'bearing', 'x', '__proto__', 'constructor', ''),
    fc.string({ maxLength: 10 }),
  );
  const extras = fc.dictionary(extraKey, value, { maxKeys: 4 });

  it('adds unknown keys to nothing but the messages of missing fields they look like', () => {
    fc.assert(
      fc.property(body, extras, (fields, extra) => {
        const raw: Record<string, unknown> = { ...fields };
        for (const [key, v] of Object.entries(extra)) {
          if (key in VALID) continue;
          Object.defineProperty(raw, key, { value: v, enumerable: true, writable: true, configurable: true });
        }
        const without = validateLocation(fields);
        const withExtras = validateLocation(raw);
        assert.equal(withExtras.ok, without.ok);
        if (without.ok || withExtras.ok) return;
        assert.deepEqual(
          withExtras.errors.map((e) => e.field),
          without.errors.map((e) => e.field),
        );
        withExtras.errors.forEach((error, i) => {
          const plain = without.errors[i]?.message;
          if (error.message === plain) return;
          assert.equal(plain, 'is required');
          const hint = /^is required \(got `(.*)`: did you mean `(.*)`\?\)$/s.exec(error.message);
          assert.ok(hint, error.message);
          assert.ok(Object.hasOwn(raw, hint[1] as string) && !((hint[1] as string) in VALID), error.message);
          assert.equal(hint[2], error.field);
        });
      }),
      { numRuns: 10_000 },
    );
  });
});
