import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it, type TestContext } from 'node:test';
import {
  contentSecurityPolicy,
  tileSource,
  type DashboardOptions,
} from '../../src/http/routes/read/dashboard.js';
import { build } from '../support/app.js';

let webRoot: string;
before(async () => {
  webRoot = await mkdtemp(join(tmpdir(), 'locus-web-'));
  await writeFile(
    join(webRoot, 'index.html'),
    '<html><head><!-- locus-config --></head><body></body></html>',
  );
  await writeFile(join(webRoot, 'app.js'), 'console.log("app")');
  await writeFile(join(webRoot, 'app.css'), 'body{}');
});
after(async () => {
  await rm(webRoot, { recursive: true, force: true });
});

async function dashboard(t: TestContext, options: Partial<DashboardOptions> = {}) {
  return build(t, { dashboard: { webRoot, ...options } });
}

function configOf(html: string): unknown {
  const json = /<script id="locus-config" type="application\/json">(.*?)<\/script>/.exec(html)?.[1];
  assert.ok(json, 'the page carries its configuration');
  return JSON.parse(json);
}

describe('tileSource and the Content-Security-Policy', () => {
  it('allows the tile server, subdomains included, and nothing else outside', () => {
    assert.equal(tileSource('https://{s}.tile.example.org/{z}/{x}/{y}.png'), 'https://*.tile.example.org');
    assert.equal(tileSource('http://tiles.local:8080/{z}/{x}/{y}{r}.png'), 'http://tiles.local:8080');
    assert.equal(tileSource('file:///tiles/{z}/{x}/{y}.png'), null);
    assert.equal(tileSource('not a url'), null);
    assert.match(contentSecurityPolicy(null), /img-src 'self' data:;/);
    assert.match(
      contentSecurityPolicy('https://{s}.tile.example.org/{z}/{x}/{y}.png'),
      /img-src 'self' data: https:\/\/\*\.tile\.example\.org;/,
    );
    assert.match(contentSecurityPolicy(null), /default-src 'none'.*connect-src 'self'/);
  });
});

describe('GET /', () => {
  it('serves the page with its configuration and a strict policy', async (t) => {
    const { app } = await dashboard(t);
    const response = await app.inject('/');
    assert.equal(response.statusCode, 200);
    assert.equal(response.headers['content-type'], 'text/html; charset=utf-8');
    assert.match(String(response.headers['content-security-policy']), /script-src 'self'/);
    assert.deepEqual(configOf(response.body), { tileUrl: null, tileAttribution: null, liveUrl: '/events' });
  });

  it('passes TILE_URL on, escaped so it cannot close the script element', async (t) => {
    const tileUrl = 'https://tiles.example.org/{z}/{x}/{y}.png?</script><script>alert(1)</script>';
    const { app } = await dashboard(t, { tileUrl, tileAttribution: '© Example' });
    const response = await app.inject('/');
    assert.equal(response.body.match(/<\/script>/g)?.length, 1);
    assert.deepEqual(configOf(response.body), { tileUrl, tileAttribution: '© Example', liveUrl: '/events' });
    assert.match(
      String(response.headers['content-security-policy']),
      /img-src 'self' data: https:\/\/tiles\.example\.org;/,
    );
  });

  it('answers 404 problem, naming the build step, when the dashboard is not built', async (t) => {
    const { app } = await dashboard(t, { webRoot: join(webRoot, 'missing') });
    const response = await app.inject('/');
    assert.equal(response.statusCode, 404);
    assert.match(response.json<{ detail: string }>().detail, /npm run build/);
  });
});

describe('GET /assets/:name', () => {
  it('serves the bundle with an ETag, and 304 when it has not changed', async (t) => {
    const { app } = await dashboard(t);
    const first = await app.inject('/assets/app.js');
    assert.equal(first.statusCode, 200);
    assert.equal(first.headers['content-type'], 'text/javascript; charset=utf-8');
    assert.equal(first.headers['cache-control'], 'no-cache');
    const etag = String(first.headers.etag);
    const again = await app.inject({ url: '/assets/app.js', headers: { 'if-none-match': etag } });
    assert.equal(again.statusCode, 304);
    assert.equal((await app.inject('/assets/app.css')).headers['content-type'], 'text/css; charset=utf-8');
  });

  it('serves nothing else', async (t) => {
    const { app } = await dashboard(t);
    for (const name of ['index.html', '..%2Fpackage.json', 'app.js.map', 'track-worker.js']) {
      assert.equal((await app.inject(`/assets/${name}`)).statusCode, 404, name);
    }
  });
});
