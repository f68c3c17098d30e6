import { DATABASE_URL_FORMS, parseDatabaseUrl, type DatabaseConfig } from './store/backends.js';
import { redactDatabaseUrl } from './store/database-url.js';

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export interface Config {
  port: number;
  host: string;
  /** Which database, as its backend (src/store/backends.ts) read DATABASE_URL; secrets included: never log it. */
  database: DatabaseConfig;
  /** The text the operator gave with any password masked, for logs. */
  databaseUrl: string;
  logLevel: LogLevel;
  /** Dedupe keys (and points) older than this are forgotten (refused); null keeps everything. */
  retentionMs: number | null;
  /** The MQTT broker to take OwnTracks messages from; null: no MQTT. Secrets included: never log it. */
  mqttUrl: string | null;
  /** OwnTracks points belong to the user (`alice`) or to each device (`alice/phone`). */
  owntracksUserId: 'user' | 'user/device';
  /** The dashboard's base-map tile URL template; null draws a coordinate grid and reaches no other host. */
  tileUrl: string | null;
  tileAttribution: string | null;
  /** Whether every request but the health checks needs a token (`locus token create`). */
  auth: boolean;
  /** At most `max` requests per token (per client address without one) per `windowMs`; null: no limit. */
  rateLimit: { max: number; windowMs: number } | null;
  /** Origins whose web pages may call the API (CORS); empty: none. */
  corsOrigins: string[];
}

/** Every setting Locus reads, by its environment variable name. */
export const SETTING_NAMES = [
  'PORT',
  'HOST',
  'DATABASE_URL',
  'LOG_LEVEL',
  'DEDUPE_RETENTION',
  'MQTT_URL',
  'OWNTRACKS_USER_ID',
  'TILE_URL',
  'TILE_ATTRIBUTION',
  'AUTH',
  'RATE_LIMIT',
  'CORS_ORIGINS',
] as const;
export type SettingName = (typeof SETTING_NAMES)[number];

/** Settings by name, as in the environment; `locus serve` flags are merged over the environment first. */
export type Settings = Partial<Record<SettingName, string>>;

export const DEFAULT_DATABASE_URL = 'sqlite:./data/locus.db';

/** The help text of every command's `--database-url` flag. */
export const DATABASE_URL_HELP = `${DATABASE_URL_FORMS} [DATABASE_URL, default ${DEFAULT_DATABASE_URL}]`;

/** A setting that cannot be used; the message is one line that names it. */
export class ConfigError extends Error {
  override name = 'ConfigError';
  constructor(
    readonly variable: string,
    problem: string,
  ) {
    super(`${variable}: ${problem}`);
  }
}

function parsePort(text: string): number {
  if (!/^\d{1,5}$/.test(text) || Number(text) > 65535) {
    throw new ConfigError('PORT', `must be a whole number from 0 to 65535, got ${JSON.stringify(text)}`);
  }
  return Number(text);
}

function parseHost(text: string): string {
  if (text.trim() === '' || /\s/.test(text))
    throw new ConfigError('HOST', `must be a host name or address, got ${JSON.stringify(text)}`);
  return text;
}

function parseDatabase(text: string): DatabaseConfig {
  const parsed = parseDatabaseUrl(text);
  if ('problem' in parsed) throw new ConfigError('DATABASE_URL', parsed.problem);
  return parsed.config;
}

function parseLogLevel(text: string): LogLevel {
  const level = LOG_LEVELS.find((l) => l === text);
  if (!level)
    throw new ConfigError(
      'LOG_LEVEL',
      `must be one of ${LOG_LEVELS.join(', ')}, got ${JSON.stringify(text)}`,
    );
  return level;
}

const DURATION_UNITS_MS: Record<string, number> = { h: 3_600_000, d: 86_400_000 };

/** `off`, or a number of hours or days: `72h`, `30d`. */
export function parseRetention(text: string): number | null {
  if (text === 'off') return null;
  const m = /^(\d{1,6})([hd])$/.exec(text);
  const amount = Number(m?.[1] ?? 0);
  if (!m || amount === 0)
    throw new ConfigError(
      'DEDUPE_RETENTION',
      `must be off, or a duration like 72h or 30d, got ${JSON.stringify(text)}`,
    );
  return amount * (DURATION_UNITS_MS[m[2] ?? 'd'] ?? 0);
}

/** Reads and checks every setting; throws ConfigError for the first one that is unusable. */
function parseMqttUrl(text: string): string | null {
  if (text === '' || text === 'off') return null;
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new ConfigError('MQTT_URL', 'must be a URL like mqtt://host:1883');
  }
  if (!['mqtt:', 'mqtts:', 'ws:', 'wss:'].includes(url.protocol)) {
    throw new ConfigError('MQTT_URL', `must use mqtt://, mqtts://, ws:// or wss://, got ${url.protocol}//`);
  }
  return text;
}

function parseOwntracksUserId(text: string): Config['owntracksUserId'] {
  if (text === 'user' || text === 'user/device') return text;
  throw new ConfigError('OWNTRACKS_USER_ID', `must be user or user/device, got ${JSON.stringify(text)}`);
}

const TILE_URL_HINT =
  'must be an http(s) URL template with {z}, {x} and {y}, e.g. https://tile.example.org/{z}/{x}/{y}.png';

function parseTileUrl(text: string): string | null {
  if (text === '') return null;
  const placeholders = ['{z}', '{x}', '{y}'].every((p) => text.includes(p));
  const filled = text.replace(/\{[a-z]\}/g, '0');
  let url: URL | null = null;
  try {
    url = new URL(filled);
  } catch {
    url = null;
  }
  if (!placeholders || !url || !['http:', 'https:'].includes(url.protocol)) {
    throw new ConfigError('TILE_URL', TILE_URL_HINT);
  }
  return text;
}

function parseAuth(text: string): boolean {
  if (text === 'on' || text === 'off') return text === 'on';
  throw new ConfigError('AUTH', `must be on or off, got ${JSON.stringify(text)}`);
}

const RATE_WINDOWS_MS: Record<string, number> = { s: 1000, min: 60_000, h: 3_600_000 };

/** `off`, or requests per window: `600/min`, `10/s`, `5000/h`. */
export function parseRateLimit(text: string): Config['rateLimit'] {
  if (text === 'off') return null;
  const m = /^(\d{1,9})\/(s|min|h)$/.exec(text);
  const max = Number(m?.[1] ?? 0);
  const windowMs = RATE_WINDOWS_MS[m?.[2] ?? ''];
  if (!m || max === 0 || windowMs === undefined)
    throw new ConfigError(
      'RATE_LIMIT',
      `must be off, or requests per s, min or h like 600/min, got ${JSON.stringify(text)}`,
    );
  return { max, windowMs };
}

/** A comma-separated list of origins (`https://app.example.org`); empty for none. */
export function parseCorsOrigins(text: string): string[] {
  const origins = text
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
  for (const origin of origins) {
    if (!URL.canParse(origin) || new URL(origin).origin !== origin) {
      throw new ConfigError(
        'CORS_ORIGINS',
        `must be a comma-separated list of origins like https://app.example.org, got ${JSON.stringify(origin)}`,
      );
    }
  }
  return origins;
}

export function loadConfig(settings: Settings): Config {
  const databaseUrl = settings.DATABASE_URL || DEFAULT_DATABASE_URL;
  return {
    port: parsePort(settings.PORT || '5000'),
    host: parseHost(settings.HOST || '0.0.0.0'),
    database: parseDatabase(databaseUrl),
    databaseUrl: redactDatabaseUrl(databaseUrl),
    logLevel: parseLogLevel(settings.LOG_LEVEL || 'info'),
    retentionMs: parseRetention(settings.DEDUPE_RETENTION || 'off'),
    mqttUrl: parseMqttUrl(settings.MQTT_URL ?? ''),
    owntracksUserId: parseOwntracksUserId(settings.OWNTRACKS_USER_ID || 'user'),
    tileUrl: parseTileUrl(settings.TILE_URL ?? ''),
    tileAttribution: settings.TILE_ATTRIBUTION || null,
    auth: parseAuth(settings.AUTH || 'off'),
    rateLimit: parseRateLimit(settings.RATE_LIMIT || 'off'),
    corsOrigins: parseCorsOrigins(settings.CORS_ORIGINS ?? ''),
  };
}
