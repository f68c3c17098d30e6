import { Command } from 'commander';
import { DATABASE_URL_HELP, type SettingName, type Settings } from '../config.js';
import { loadConfigNamingFlags } from './usage.js';

interface ServeFlags {
  port?: string;
  host?: string;
  databaseUrl?: string;
  logLevel?: string;
  dedupeRetention?: string;
  mqtt?: string;
  owntracksUserId?: string;
  tileUrl?: string;
  tileAttribution?: string;
  auth?: string;
  rateLimit?: string;
  corsOrigins?: string;
}

/** How long in-flight requests and commits get to finish after SIGTERM; less than Docker's default 10 s stop. */
const SHUTDOWN_GRACE_MS = 8_000;

/** Flags win over the environment; both go through the same checks. */
export function settingsFrom(env: NodeJS.ProcessEnv, flags: ServeFlags): Settings {
  return {
    PORT: flags.port ?? env.PORT,
    HOST: flags.host ?? env.HOST,
    DATABASE_URL: flags.databaseUrl ?? env.DATABASE_URL,
    LOG_LEVEL: flags.logLevel ?? env.LOG_LEVEL,
    DEDUPE_RETENTION: flags.dedupeRetention ?? env.DEDUPE_RETENTION,
    MQTT_URL: flags.mqtt ?? env.MQTT_URL,
    OWNTRACKS_USER_ID: flags.owntracksUserId ?? env.OWNTRACKS_USER_ID,
    TILE_URL: flags.tileUrl ?? env.TILE_URL,
    TILE_ATTRIBUTION: flags.tileAttribution ?? env.TILE_ATTRIBUTION,
    AUTH: flags.auth ?? env.AUTH,
    RATE_LIMIT: flags.rateLimit ?? env.RATE_LIMIT,
    CORS_ORIGINS: flags.corsOrigins ?? env.CORS_ORIGINS,
  };
}

/** Each setting's flag: its key in ServeFlags and its name on the command line. */
const FLAGS: Record<SettingName, [keyof ServeFlags, string]> = {
  PORT: ['port', '--port'],
  HOST: ['host', '--host'],
  DATABASE_URL: ['databaseUrl', '--database-url'],
  LOG_LEVEL: ['logLevel', '--log-level'],
  DEDUPE_RETENTION: ['dedupeRetention', '--dedupe-retention'],
  MQTT_URL: ['mqtt', '--mqtt'],
  OWNTRACKS_USER_ID: ['owntracksUserId', '--owntracks-user-id'],
  TILE_URL: ['tileUrl', '--tile-url'],
  TILE_ATTRIBUTION: ['tileAttribution', '--tile-attribution'],
  AUTH: ['auth', '--auth'],
  RATE_LIMIT: ['rateLimit', '--rate-limit'],
  CORS_ORIGINS: ['corsOrigins', '--cors-origins'],
};

/** The settings given by a flag, each with its flag: a bad one is named as given (`--port: …`, not `PORT: …`). */
export function flagsGiven(flags: ServeFlags): Partial<Record<SettingName, string>> {
  const given: Partial<Record<SettingName, string>> = {};
  for (const [name, [key, flag]] of Object.entries(FLAGS) as [SettingName, [keyof ServeFlags, string]][]) {
    if (flags[key] !== undefined) given[name] = flag;
  }
  return given;
}

export function serveCommand(): Command {
  return new Command('serve')
    .description('run the HTTP API (settings from flags, else the environment)')
    .option('--port <port>', 'TCP port [PORT, default 5000]')
    .option('--host <host>', 'address to listen on [HOST, default 0.0.0.0]')
    .option('--database-url <url>', DATABASE_URL_HELP)
    .option('--log-level <level>', 'fatal|error|warn|info|debug|trace|silent [LOG_LEVEL, default info]')
    .option(
      '--dedupe-retention <duration>',
      'forget dedupe keys older than e.g. 30d, refusing older points [DEDUPE_RETENTION, default off]',
    )
    .option(
      '--mqtt <url>',
      'take OwnTracks messages from this MQTT broker, e.g. mqtt://127.0.0.1:1883 [MQTT_URL]',
    )
    .option('--owntracks-user-id <mode>', 'user or user/device [OWNTRACKS_USER_ID, default user]')
    .option(
      '--tile-url <template>',
      'dashboard base map, e.g. https://tile.example.org/{z}/{x}/{y}.png [TILE_URL]',
    )
    .option('--tile-attribution <text>', 'attribution shown with the tiles [TILE_ATTRIBUTION]')
    .option('--auth <on|off>', 'require a token (locus token create) on every request [AUTH, default off]')
    .option(
      '--rate-limit <rate>',
      'requests per token (per address without one), e.g. 600/min, 10/s, 5000/h [RATE_LIMIT, default off]',
    )
    .option(
      '--cors-origins <origins>',
      'web origins that may call the API, comma-separated, e.g. https://app.example.org [CORS_ORIGINS, default none]',
    )
    .action(async (flags: ServeFlags) => {
      const config = loadConfigNamingFlags(settingsFrom(process.env, flags), flagsGiven(flags));
      const { startServer } = await import('../server.js');
      const server = await startServer(config);
      const shutdown = (signal: NodeJS.Signals) => {
        server.app.log.info({ signal }, 'shutting down');
        // A request or commit that cannot finish (a hung database) must not keep the process from exiting: the
        // supervisor's stop would end in a SIGKILL anyway, without this line in the log.
        setTimeout(() => {
          server.app.log.error({ graceMs: SHUTDOWN_GRACE_MS }, 'shutdown did not finish in time; exiting');
          process.exit(1);
        }, SHUTDOWN_GRACE_MS).unref();
        server.close().then(
          () => process.exit(0),
          (error: unknown) => {
            server.app.log.error({ err: error }, 'shutdown failed');
            process.exit(1);
          },
        );
      };
      process.once('SIGTERM', shutdown);
      process.once('SIGINT', shutdown);
    });
}
