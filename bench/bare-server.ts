/*
 * The baseline: what Node.js itself costs to receive one PUT /location. It reads and parses the JSON body and
 * answers 200 with a small JSON body, with no validation and no storage.
 */
import { createServer } from 'node:http';

const port = Number(process.env.PORT ?? 5100);

const server = createServer((request, response) => {
  const chunks: Buffer[] = [];
  request.on('data', (chunk: Buffer) => chunks.push(chunk));
  request.on('end', () => {
    let status = 200;
    try {
      JSON.parse(Buffer.concat(chunks).toString('utf8'));
    } catch {
      status = 400;
    }
    response.writeHead(status, { 'content-type': 'application/json' });
    response.end('{"status":"stored"}');
  });
});
server.keepAliveTimeout = 72_000;
server.listen(port, '127.0.0.1', () => process.send?.('ready'));
process.on('SIGTERM', () => server.close(() => process.exit(0)));
