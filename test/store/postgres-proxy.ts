/*
 * A loopback TCP proxy in front of the test PostgreSQL server, so a test can take "the database" away and bring
 * it back without stopping a real server that other tests and other runs share.
 */
import { once } from 'node:events';
import net from 'node:net';

export interface TcpProxy {
  /** The proxy's port on 127.0.0.1; the same across stop() and start(). */
  readonly port: number;
  /** Accepts connections again, on the same port; does nothing while it already does. */
  start(): Promise<void>;
  /** Refuses new connections and cuts every open one, as a crashed or unreachable server would; idempotent. */
  stop(): Promise<void>;
}

export async function startTcpProxy(target: { host: string; port: number }): Promise<TcpProxy> {
  const sockets = new Set<net.Socket>();
  const track = (socket: net.Socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  };
  const server = net.createServer((client) => {
    const upstream = net.connect(target);
    track(client);
    track(upstream);
    // Either side failing takes the other down, as a broken network path would; errors are expected here.
    client.on('error', () => upstream.destroy());
    upstream.on('error', () => client.destroy());
    client.pipe(upstream);
    upstream.pipe(client);
  });
  const listen = async (port: number) => {
    if (server.listening) return;
    server.listen(port, '127.0.0.1');
    await once(server, 'listening');
  };
  await listen(0);
  const port = (server.address() as net.AddressInfo).port;
  return {
    port,
    start: () => listen(port),
    stop: async () => {
      if (!server.listening) return;
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      for (const socket of sockets) socket.destroy();
      await closed;
    },
  };
}
