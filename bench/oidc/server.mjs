// node-oidc-provider as the comparison server of bench/src/bin/oidc_throughput.rs,
// configured like the gateway's side of that benchmark: two confidential
// clients (client_secret_basic) allowed the client_credentials grant and the
// scope bench.read, one whose access tokens are JWTs signed ES256 and one RS256
// (RFC 9068 JWT access tokens through resource indicators, the way
// oidc-provider issues JWT access tokens), with keys generated at start
// (RSA-2048, P-256).
//
// Started by the benchmark with `node server.mjs`: listens on 127.0.0.1 on a
// free port, prints `READY <issuer>` and one `CLIENT <id> <secret> <alg>`
// line per client, and exits when its standard input closes.

import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import Provider from 'oidc-provider';

const SCOPE = 'bench.read';
const algs = ['ES256', 'RS256'];
const resourceOf = (alg) => `urn:vestibule:bench:${alg.toLowerCase()}`;

const jwk = (pair, kid) => ({ ...pair.privateKey.export({ format: 'jwk' }), kid, use: 'sig' });
const keys = [
  jwk(generateKeyPairSync('rsa', { modulusLength: 2048 }), 'bench-rs256'),
  jwk(generateKeyPairSync('ec', { namedCurve: 'P-256' }), 'bench-es256'),
];

const clients = algs.map((alg) => ({
  client_id: `bench-${alg.toLowerCase()}`,
  client_secret: randomBytes(32).toString('base64url'),
  grant_types: ['client_credentials'],
  response_types: [],
  redirect_uris: [],
  scope: SCOPE,
  token_endpoint_auth_method: 'client_secret_basic',
  'urn:vestibule:bench:alg': alg,
}));
const algOfClient = new Map(clients.map((c) => [c.client_id, c['urn:vestibule:bench:alg']]));
const algOfResource = new Map(algs.map((alg) => [resourceOf(alg), alg]));

const server = createServer();
server.keepAliveTimeout = 60_000;
server.listen(0, '127.0.0.1', () => {
  const issuer = `http://127.0.0.1:${server.address().port}`;
  const provider = new Provider(issuer, {
    clients,
    extraClientMetadata: { properties: ['urn:vestibule:bench:alg'] },
    jwks: { keys },
    scopes: [SCOPE],
    features: {
      devInteractions: { enabled: false },
      clientCredentials: { enabled: true },
      resourceIndicators: {
        enabled: true,
        // Each client gets tokens for its own resource server, whose access
        // tokens are JWTs signed with that client's algorithm.
        defaultResource: (ctx, client) => resourceOf(algOfClient.get(client.clientId)),
        useGrantedResource: () => true,
        getResourceServerInfo: (ctx, resource) => ({
          scope: SCOPE,
          audience: resource,
          accessTokenTTL: 3600,
          accessTokenFormat: 'jwt',
          jwt: { sign: { alg: algOfResource.get(resource) } },
        }),
      },
    },
  });
  server.on('request', provider.callback());
  console.log(`READY ${issuer}`);
  for (const c of clients) console.log(`CLIENT ${c.client_id} ${c.client_secret} ${algOfClient.get(c.client_id)}`);
});

process.stdin.on('end', () => process.exit(0));
process.stdin.on('close', () => process.exit(0));
process.stdin.resume();
