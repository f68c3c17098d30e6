/*
 * No Docker engine runs where the tests do, so the deployment files are checked against Locus itself instead: the
 * settings compose passes must be ones Locus reads and accepts, and the Dockerfile must start what the build makes.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { loadConfig, SETTING_NAMES } from '../../src/config.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

interface Service {
  image?: string;
  build?: unknown;
  environment?: Record<string, string | number | boolean | null> | string[];
  ports?: (string | number)[];
  depends_on?: Record<string, { condition?: string }> | string[];
  healthcheck?: { test?: string[] | string };
}

interface ComposeFile {
  services: Record<string, Service>;
}

function read(file: string): string {
  return readFileSync(path.join(ROOT, file), 'utf8');
}

function service(compose: ComposeFile, name: string): Service {
  const found = compose.services[name];
  assert.ok(found, `service ${name}`);
  return found;
}

/** Both compose spellings, the map and the `KEY=value` list, as one map of strings. */
function environment(of: Service): Record<string, string> {
  const env = of.environment ?? {};
  const entries = Array.isArray(env)
    ? env.map((line) => {
        const at = line.indexOf('=');
        return [line.slice(0, at), line.slice(at + 1)] as const;
      })
    : Object.entries(env).map(([key, value]) => [key, String(value)] as const);
  return Object.fromEntries(entries);
}

const compose = parse(read('docker-compose.yaml')) as ComposeFile;

describe('docker-compose.yaml', () => {
  it('defines exactly the services locus and postgres', () => {
    assert.deepEqual(Object.keys(compose.services).sort(), ['locus', 'postgres']);
    assert.ok(service(compose, 'locus').build, 'locus is built from this repository');
    assert.match(service(compose, 'postgres').image ?? '', /^postgres:\d+/);
  });

  it('sets only real Locus settings on locus, and every one of them is accepted by loadConfig', () => {
    const env = environment(service(compose, 'locus'));
    const names: readonly string[] = SETTING_NAMES;
    assert.deepEqual(
      Object.keys(env).filter((name) => !names.includes(name)),
      [],
    );
    const config = loadConfig(env);
    assert.equal(config.database.kind, 'postgres');
    assert.equal(config.host, '0.0.0.0', 'reachable from outside the container');
  });

  it('points DATABASE_URL at the postgres service, database locus, with the credentials postgres is given', () => {
    const locus = environment(service(compose, 'locus'));
    const postgres = environment(service(compose, 'postgres'));
    const url = new URL(locus.DATABASE_URL ?? '');
    assert.equal(url.protocol, 'postgres:');
    assert.equal(url.hostname, 'postgres');
    assert.equal(url.port || '5432', '5432');
    assert.equal(url.pathname, '/locus');
    assert.equal(url.pathname.slice(1), postgres.POSTGRES_DB);
    assert.equal(decodeURIComponent(url.username), postgres.POSTGRES_USER);
    assert.equal(decodeURIComponent(url.password), postgres.POSTGRES_PASSWORD);
  });

  it('publishes port 5000 to the port Locus listens on', () => {
    const locus = service(compose, 'locus');
    const port = loadConfig(environment(locus)).port;
    assert.equal(port, 5000);
    assert.deepEqual(locus.ports?.map(String), [`5000:${port}`]);
  });

  it('starts locus only once postgres passes its healthcheck', () => {
    assert.ok(service(compose, 'postgres').healthcheck?.test, 'postgres has a healthcheck');
    const dependsOn = service(compose, 'locus').depends_on;
    assert.ok(dependsOn && !Array.isArray(dependsOn), 'depends_on with a condition');
    assert.equal(dependsOn.postgres?.condition, 'service_healthy');
  });

  it("checks locus's health on /readyz", () => {
    const test = service(compose, 'locus').healthcheck?.test;
    assert.match(JSON.stringify(test), /\/readyz/);
  });
});

describe('Dockerfile', () => {
  const dockerfile = read('Dockerfile');
  const instructions = dockerfile
    .split('\n')
    .filter((line) => line.trim() !== '' && !line.trimStart().startsWith('#'))
    .join('\n');
  const stages = instructions.split(/^FROM /m).slice(1);
  const runtime = stages.at(-1) ?? '';
  const packageJson = JSON.parse(read('package.json')) as { bin: Record<string, string> };

  it('builds in one stage and runs from another', () => {
    assert.ok(stages.length >= 2, 'multi-stage');
    assert.match(stages[0] ?? '', /npm ci/);
    assert.match(stages[0] ?? '', /npm run build/);
    assert.match(instructions, /npm ci --omit=dev/);
    assert.match(stages[0] ?? '', /python3/, 'the toolchain better-sqlite3 may need');
    assert.doesNotMatch(runtime, /g\+\+|apt-get/, 'no compiler in the image that runs');
  });

  it('runs as a user that is not root', () => {
    const users = [...runtime.matchAll(/^USER\s+(\S+)/gm)].map((m) => m[1]);
    assert.ok(users.length > 0, 'USER is set');
    assert.notEqual(users.at(-1), 'root');
    assert.notEqual(users.at(-1), '0');
  });

  it('starts `serve` from the file package.json names as the locus binary, and exposes 5000', () => {
    const cmd = /^CMD\s+(\[.*\])\s*$/m.exec(runtime)?.[1];
    assert.ok(cmd, 'CMD in exec form');
    assert.deepEqual(JSON.parse(cmd), ['node', packageJson.bin.locus, 'serve']);
    assert.match(runtime, /^EXPOSE 5000$/m);
  });

  it('.dockerignore keeps local installs, builds and databases out of the build context', () => {
    const ignored = read('.dockerignore')
      .split('\n')
      .map((line) => line.trim());
    for (const entry of ['node_modules', 'dist', 'data', '.git']) assert.ok(ignored.includes(entry), entry);
  });
});
