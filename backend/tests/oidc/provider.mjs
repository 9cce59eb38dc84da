// A real OpenID Connect provider (panva/oidc-provider, certified) for Guichet's tests.
//
//   node provider.mjs            PORT (default 0: any free port), KEY_FILE (optional)
//
// Listens on 127.0.0.1 and prints one line, `listening <issuer>`, once it serves. The issuer
// is http://127.0.0.1:<port>. Its signing key (RS256) is read from KEY_FILE when the file
// exists, else generated (and written there when KEY_FILE is set): restarting with a new
// file rotates the key; two instances given the same file share it.
//
// Clients (client_credentials, with resource indicators: JWT access tokens):
//   guichet-attendee / secret-guichet-attendee    email ada@idp.test, no roles
//   guichet-organizer / secret-guichet-organizer  email olu@idp.test, roles [guichet:organizer]
//   guichet-short / secret-guichet-short          like guichet-attendee, tokens live 2 s
// The resource https://api.guichet.test gets audience `guichet-api`; any other resource
// gets `other-api`. `guichet-app` is a public client for the authorization-code flow with
// PKCE (redirects to any loopback port), for the SDK: its development log-in page takes any
// login name `x`, whose tokens carry email `x@idp.test` and no roles. `guichet-app-short` is
// the same client with access tokens that live 20 s (the SDK refreshes them on every use).
import http from 'node:http';
import { generateKeyPairSync, randomUUID } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import Provider from 'oidc-provider';

const API = 'https://api.guichet.test';

const people = {
  'guichet-attendee': { email: 'ada@idp.test', roles: [] },
  'guichet-organizer': { email: 'olu@idp.test', roles: ['guichet:organizer'] },
  'guichet-short': { email: 'ada@idp.test', roles: [] },
};

function signingKey() {
  const file = process.env.KEY_FILE;
  if (file && existsSync(file)) return JSON.parse(readFileSync(file, 'utf8'));
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const jwk = { ...privateKey.export({ format: 'jwk' }), kid: randomUUID(), alg: 'RS256', use: 'sig' };
  if (file) writeFileSync(file, JSON.stringify(jwk), { mode: 0o600 });
  return jwk;
}

const server = http.createServer();
server.listen(Number(process.env.PORT || 0), '127.0.0.1', () => {
  const issuer = `http://127.0.0.1:${server.address().port}`;
  const provider = new Provider(issuer, {
    clients: [
      ...Object.keys(people).map((id) => ({
        client_id: id,
        client_secret: `secret-${id}`,
        grant_types: ['client_credentials'],
        redirect_uris: [],
        response_types: [],
      })),
      ...['guichet-app', 'guichet-app-short'].map((id) => ({
        client_id: id,
        token_endpoint_auth_method: 'none',
        application_type: 'native',
        grant_types: ['authorization_code', 'refresh_token'],
        response_types: ['code'],
        redirect_uris: ['http://127.0.0.1/callback'],
      })),
    ],
    jwks: { keys: [signingKey()] },
    features: {
      devInteractions: { enabled: true },
      clientCredentials: { enabled: true },
      resourceIndicators: {
        enabled: true,
        defaultResource: () => API,
        useGrantedResource: () => true,
        getResourceServerInfo: (ctx, resource) => ({
          scope: 'api',
          audience: resource === API ? 'guichet-api' : 'other-api',
          accessTokenFormat: 'jwt',
          accessTokenTTL: {
            'guichet-short': 2,
            'guichet-app-short': 20,
          }[ctx.oidc.client?.clientId] ?? 600,
          jwt: { sign: { alg: 'RS256' } },
        }),
      },
    },
    extraTokenClaims: (ctx, token) => {
      const person = token.accountId
        ? { email: `${token.accountId}@idp.test`, roles: [] }
        : people[token.clientId];
      return person ? { email: person.email, roles: person.roles } : undefined;
    },
    pkce: { required: () => true },
  });
  server.on('request', provider.callback());
  console.log(`listening ${issuer}`);
});

process.on('SIGTERM', () => server.close(() => process.exit(0)));
