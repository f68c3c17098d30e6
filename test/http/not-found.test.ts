/*
 * Requests no route takes: an unknown path is 404, a known path with a method it does not take is 405 with `Allow`;
 * and no problem detail repeats the query string, which may carry a token.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { HTTPMethods } from 'fastify';
import { newSecret } from '../../src/auth/tokens.js';
import { build } from '../support/app.js';
import { assertProblem } from '../support/problem.js';

describe('an unknown path', () => {
  it('is a 404 naming the method and the path, never the query string (it may carry a token)', async (t) => {
    const { app } = await build(t);
    const token = newSecret().token;
    for (const url of [`/nope?token=${token}`, `/nope?x=1&token=${token}`, `/nope?token=${token}#frag`]) {
      const response = await app.inject(url);
      const body = assertProblem(response, 404, 'not-found');
      assert.equal(body.detail, 'GET /nope is not a Locus endpoint.');
      assert.equal(response.body.includes(token), false, response.body);
      assert.equal(response.body.includes('?'), false, response.body);
    }
  });

  it('stays 404 for every method, also under a known prefix', async (t) => {
    const { app } = await build(t);
    for (const [method, url] of [
      ['GET', '/nope'],
      ['DELETE', '/nope'],
      ['POST', '/users/a1'],
      ['GET', '/users/a1/locations/extra'],
      ['PUT', '/location/x'],
    ] as const) {
      const response = await app.inject({ method, url });
      const body = assertProblem(response, 404, 'not-found');
      assert.equal(body.detail, `${method} ${url} is not a Locus endpoint.`);
      assert.equal(response.headers.allow, undefined, `${method} ${url}`);
    }
  });
});

describe('a known path with a method it does not take', () => {
  const cases: Array<[HTTPMethods, string, string]> = [
    ['GET', '/location', 'PUT'],
    ['POST', '/location', 'PUT'],
    ['DELETE', '/users/a1/locations', 'GET, HEAD'],
    ['PUT', '/users', 'GET, HEAD'],
    ['DELETE', '/users/a1/locations.csv', 'GET, HEAD'],
    ['GET', '/locations', 'POST'],
    ['PATCH', '/pub', 'POST'],
    ['POST', '/events', 'GET, HEAD'],
    ['POST', '/healthz', 'GET, HEAD'],
  ];
  for (const [method, url, allow] of cases) {
    it(`${method} ${url} is 405 with Allow: ${allow}`, async (t) => {
      const { app } = await build(t);
      const token = newSecret().token;
      const response = await app.inject({ method, url: `${url}?token=${token}` });
      const body = assertProblem(response, 405, 'method-not-allowed');
      assert.equal(response.headers.allow, allow);
      assert.equal(body.detail, `${url} does not take ${method}; it takes ${allow}.`);
      assert.equal(response.body.includes(token), false, 'no query string in the detail');
    });
  }

  it('every documented path answers 405 to a method it does not document, with Allow naming those it does', async (t) => {
    const { app } = await build(t);
    const doc = (await app.inject('/openapi.json')).json<{
      paths: Record<string, Record<string, unknown>>;
    }>();
    const paths = Object.entries(doc.paths);
    assert.ok(paths.length >= 8, 'the API description lists the routes');
    for (const [template, operations] of paths) {
      const url = template.replace('{user_id}', 'a1').replace('{format}', 'csv');
      const documented = Object.keys(operations).map((m) => m.toUpperCase());
      const expected = new Set([...documented, ...(documented.includes('GET') ? ['HEAD'] : [])]);
      const response = await app.inject({ method: 'DELETE', url });
      assertProblem(response, 405, 'method-not-allowed');
      assert.deepEqual(
        new Set(String(response.headers.allow).split(', ')),
        expected,
        `${template}: ${String(response.headers.allow)}`,
      );
    }
  });

  it('counts OPTIONS only next to another method, so that the CORS preflight route leaves unknown paths 404', async (t) => {
    const { app } = await build(t, { corsOrigins: ['https://app.example'] });
    const response = await app.inject({ method: 'GET', url: '/location' });
    assertProblem(response, 405, 'method-not-allowed');
    assert.equal(response.headers.allow, 'PUT, OPTIONS');
    assertProblem(await app.inject({ method: 'DELETE', url: '/nope' }), 404, 'not-found');
  });

  it('with AUTH on, a request without a token is still 401 first; with a valid one it is 405', async (t) => {
    const { app, store } = await build(t, { auth: { required: true } });
    assertProblem(await app.inject({ method: 'GET', url: '/location' }), 401, 'unauthorized');
    const secret = newSecret();
    await store.tokens.create({
      id: secret.id,
      hash: secret.hash,
      userId: 'a1',
      scope: 'user',
      label: null,
      createdMs: 0,
    });
    const response = await app.inject({
      method: 'GET',
      url: '/location',
      headers: { authorization: `Bearer ${secret.token}` },
    });
    assertProblem(response, 405, 'method-not-allowed');
    assert.equal(response.headers.allow, 'PUT');
  });

  it('the right method on the same paths is still routed as before', async (t) => {
    const { app } = await build(t);
    assert.equal((await app.inject('/users')).statusCode, 200);
    assertProblem(await app.inject('/users/a1/locations'), 404, 'unknown-user');
    assert.equal((await app.inject({ method: 'HEAD', url: '/healthz' })).statusCode, 200);
  });
});

describe('problem details', () => {
  it('never repeat the query string, whichever problem a request with a valid ?token= gets', async (t) => {
    const { app, store } = await build(t, { auth: { required: true } });
    const secret = newSecret();
    await store.tokens.create({
      id: secret.id,
      hash: secret.hash,
      userId: 'a1',
      scope: 'user',
      label: null,
      createdMs: 0,
    });
    const json = { 'content-type': 'application/json' };
    const requests = [
      [404, { method: 'GET', url: '/nope' }],
      [405, { method: 'DELETE', url: '/location' }],
      [400, { method: 'PUT', url: '/location', payload: '{', headers: json }],
      [400, { method: 'PUT', url: '/location', payload: '{"lat":"x"}', headers: json }],
      [400, { method: 'GET', url: '/users/a1/locations?from=nonsense' }],
      [403, { method: 'GET', url: '/users/b2/locations' }],
      [404, { method: 'GET', url: '/users/a1/locations.csv' }],
      [415, { method: 'PUT', url: '/location', payload: 'x', headers: { 'content-type': 'text/plain' } }],
    ] as const;
    for (const [status, request] of requests) {
      for (const query of [`token=${secret.token}`, `token=${newSecret().token}`]) {
        const url = `${request.url}${request.url.includes('?') ? '&' : '?'}${query}`;
        const response = await app.inject({ ...request, url });
        const valid = query.endsWith(secret.token);
        assertProblem(response, valid ? status : 401);
        const token = query.slice('token='.length);
        assert.equal(response.body.includes(token), false, `${request.method} ${url}: ${response.body}`);
        assert.equal(response.body.includes('token='), false, `${request.method} ${url}: ${response.body}`);
      }
    }
  });
});
