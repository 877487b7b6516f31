// A real OpenID provider (the certified `oidc-provider` package) on loopback for the tests.
//
// It stands in for Google: discovery, authorization endpoint, token endpoint with PKCE S256
// required, JWKS-signed ID tokens and userinfo are all the library's own. Only the interaction
// (login + consent pages) is replaced by an automatic one, because the tests drive the flow
// over plain HTTP: GET /interaction/<uid> signs the configured test account in and grants
// consent, or answers `access_denied` when consent is set to "deny".
//
// Configuration (environment; everything optional):
//   OIDC_CLIENT_ID, OIDC_CLIENT_SECRET   the one registered client (default triport-test/…)
//   OIDC_REDIRECT_URI                    its redirect URI; the client is a "native" client, so
//                                        the port of a 127.0.0.1 URI is flexible (RFC 8252 7.3)
//   OIDC_TOKEN_AUTH                      client_secret_basic (default) or client_secret_post;
//                                        the only method discovery then advertises
//   OIDC_CLAIMS_IN_ID_TOKEN              "true": email/profile claims in the ID token as Google
//                                        does; otherwise only from the userinfo endpoint
//   OIDC_SUBJECT, OIDC_EMAIL, OIDC_EMAIL_VERIFIED ("true"/"false"), OIDC_NAME, OIDC_PICTURE
//   OIDC_CONSENT                         "approve" (default) or "deny"
// The account and consent settings can be changed while running:
//   GET/POST /__test__/settings  (JSON object with the keys subject, email, email_verified,
//   name, picture, consent).
// It listens on 127.0.0.1 on a free port and prints one JSON line {"issuer", "port"} on stdout.

import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { createServer } from 'node:http';

import Provider from 'oidc-provider';

const env = process.env;
const settings = {
  subject: env.OIDC_SUBJECT ?? 'oidc-test-user-1',
  email: env.OIDC_EMAIL ?? 'grace@example.com',
  email_verified: (env.OIDC_EMAIL_VERIFIED ?? 'true') === 'true',
  name: env.OIDC_NAME ?? 'Grace Hopper',
  picture: env.OIDC_PICTURE ?? 'https://example.com/grace.png',
  consent: env.OIDC_CONSENT ?? 'approve',
};
const tokenAuth = env.OIDC_TOKEN_AUTH ?? 'client_secret_basic';

function signingKey() {
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  return { ...privateKey.export({ format: 'jwk' }), kid: randomBytes(8).toString('hex'), use: 'sig', alg: 'RS256' };
}

function configuration() {
  return {
    clients: [
      {
        client_id: env.OIDC_CLIENT_ID ?? 'triport-test',
        client_secret: env.OIDC_CLIENT_SECRET ?? 'triport-test-secret',
        application_type: 'native',
        redirect_uris: [env.OIDC_REDIRECT_URI ?? 'http://127.0.0.1/v1/auth/google/callback'],
        response_types: ['code'],
        grant_types: ['authorization_code'],
        token_endpoint_auth_method: tokenAuth,
      },
    ],
    clientAuthMethods: [tokenAuth],
    jwks: { keys: [signingKey()] },
    cookies: { keys: [randomBytes(32).toString('hex')] },
    claims: { openid: ['sub'], email: ['email', 'email_verified'], profile: ['name', 'picture'] },
    conformIdTokenClaims: env.OIDC_CLAIMS_IN_ID_TOKEN !== 'true',
    features: { devInteractions: { enabled: false } },
    pkce: { required: () => true },
    interactions: { url: (_ctx, interaction) => `/interaction/${interaction.uid}` },
    async findAccount(_ctx, accountId) {
      return {
        accountId,
        async claims() {
          const { email, email_verified, name, picture } = settings;
          return { sub: accountId, email, email_verified, name, picture };
        },
      };
    },
  };
}

async function grantConsent(provider, details) {
  const grant = details.grantId
    ? await provider.Grant.find(details.grantId)
    : new provider.Grant({ accountId: details.session.accountId, clientId: details.params.client_id });
  const missing = details.prompt.details;
  if (missing.missingOIDCScope) grant.addOIDCScope(missing.missingOIDCScope.join(' '));
  if (missing.missingOIDCClaims) grant.addOIDCClaims(missing.missingOIDCClaims);
  return { consent: { grantId: await grant.save() } };
}

async function interact(provider, req, res) {
  const details = await provider.interactionDetails(req, res);
  let result;
  if (settings.consent === 'deny') {
    result = { error: 'access_denied', error_description: 'The test user denied consent.' };
  } else if (details.prompt.name === 'login') {
    result = { login: { accountId: settings.subject } };
  } else {
    result = await grantConsent(provider, details);
  }
  await provider.interactionFinished(req, res, result, { mergeWithLastSubmission: false });
}

async function readJson(req) {
  const chunks = [];
  for await (const chunk of req) chunks.push(chunk);
  return chunks.length ? JSON.parse(Buffer.concat(chunks).toString('utf8')) : {};
}

async function control(req, res) {
  if (req.method === 'POST') {
    const update = await readJson(req);
    for (const key of Object.keys(settings)) {
      if (key in update) settings[key] = update[key];
    }
  }
  res.writeHead(200, { 'content-type': 'application/json' });
  res.end(JSON.stringify(settings));
}

const server = createServer();
server.listen(0, '127.0.0.1', () => {
  const { port } = server.address();
  const issuer = `http://127.0.0.1:${port}`;
  const provider = new Provider(issuer, configuration());
  const oidc = provider.callback();
  server.on('request', (req, res) => {
    const path = new URL(req.url, issuer).pathname;
    let handled;
    if (path.startsWith('/interaction/')) handled = interact(provider, req, res);
    else if (path === '/__test__/settings') handled = control(req, res);
    else return oidc(req, res);
    handled.catch((err) => {
      process.stderr.write(`test provider: ${err.stack ?? err}\n`);
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain' });
      res.end('test provider error');
    });
  });
  process.stdout.write(`${JSON.stringify({ issuer, port })}\n`);
});

for (const signal of ['SIGTERM', 'SIGINT']) {
  process.on(signal, () => {
    server.closeAllConnections();
    server.close(() => process.exit(0));
  });
}
