import assert from 'node:assert/strict';
import { describe, it, type TestContext } from 'node:test';
import type { InjectOptions } from 'fastify';
import { newSecret } from '../../src/auth/tokens.js';
import type { AppOptions } from '../../src/http/app.js';
import type { Store } from '../../src/store/store.js';
import { build } from '../support/app.js';
import { assertProblem } from '../support/problem.js';

const MAX = 3;

async function limitedApp(t: TestContext, options: Omit<AppOptions, 'store'> = {}) {
  return build(t, { rateLimit: { max: MAX, windowMs: 60_000 }, ...options });
}

async function issue(store: Store, userId: string): Promise<string> {
  const secret = newSecret();
  await store.tokens.create({
    id: secret.id,
    hash: secret.hash,
    userId,
    scope: 'user',
    label: null,
    createdMs: 0,
  });
  return secret.token;
}

const usersOf = (token: string): InjectOptions => ({
  url: '/users',
  headers: { authorization: `Bearer ${token}` },
});

describe('rate limit', () => {
  it('answers request N+1 of a token with 429, Retry-After and a problem; another token has its own count', async (t) => {
    const { app, store } = await limitedApp(t, { auth: { required: true } });
    const first = await issue(store, 'a1');
    const second = await issue(store, 'b2');
    for (let i = 0; i < MAX; i++) {
      const response = await app.inject(usersOf(first));
      assert.equal(response.statusCode, 200);
      assert.equal(response.headers['x-ratelimit-remaining'], String(MAX - 1 - i));
    }
    const limited = await app.inject(usersOf(first));
    const body = assertProblem(limited, 429, 'rate-limited');
    const retryAfter = Number(limited.headers['retry-after']);
    assert.ok(Number.isInteger(retryAfter) && retryAfter > 0 && retryAfter <= 60, String(retryAfter));
    assert.match(body.detail, /At most 3 requests per 60 s/);
    assert.equal((await app.inject(usersOf(second))).statusCode, 200, 'a different token, a different count');
  });

  it('counts the same token sent as ?token= and as a header together', async (t) => {
    const { app, store } = await limitedApp(t, { auth: { required: true } });
    const token = await issue(store, 'a1');
    for (let i = 0; i < MAX; i++) {
      const viaQuery = await app.inject(`/users?token=${token}`);
      assert.equal(viaQuery.statusCode, 200);
    }
    assert.equal((await app.inject(usersOf(token))).statusCode, 429);
  });

  it('counts requests without a valid token by client address, before answering 401', async (t) => {
    const { app } = await limitedApp(t, { auth: { required: true } });
    const guess = (remoteAddress: string) => app.inject({ ...usersOf(newSecret().token), remoteAddress });
    for (let i = 0; i < MAX; i++) assert.equal((await guess('10.0.0.1')).statusCode, 401);
    assert.equal((await guess('10.0.0.1')).statusCode, 429);
    assert.equal((await guess('10.0.0.2')).statusCode, 401, 'another address has its own count');
  });

  it('with AUTH off, counts by client address', async (t) => {
    const { app } = await limitedApp(t);
    const from = (remoteAddress: string) => app.inject({ url: '/users', remoteAddress });
    for (let i = 0; i < MAX; i++) assert.equal((await from('10.0.0.1')).statusCode, 200);
    assert.equal((await from('10.0.0.1')).statusCode, 429);
    assert.equal((await from('10.0.0.2')).statusCode, 200);
  });

  it('never limits /healthz and /readyz', async (t) => {
    const { app } = await limitedApp(t);
    for (let i = 0; i < MAX * 3; i++) {
      assert.equal((await app.inject('/healthz')).statusCode, 200);
      assert.equal((await app.inject('/readyz')).statusCode, 200);
    }
  });

  it('is off unless configured', async (t) => {
    const { app } = await build(t);
    for (let i = 0; i < 50; i++) assert.equal((await app.inject('/users')).statusCode, 200);
    const response = await app.inject('/users');
    assert.equal(response.headers['x-ratelimit-limit'], undefined);
  });
});
