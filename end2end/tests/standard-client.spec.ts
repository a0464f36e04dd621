import { test, expect } from "@playwright/test";
import { WITH_KEYS } from "../playwright.config";
import { createApp } from "./helpers";

// openid-client 6 (panva), a strict off-the-shelf OAuth 2.0 / OpenID client:
// it checks the metadata's issuer, content types and status codes to the letter.
// It is ESM-only, hence the dynamic import.
const openid = () => import("openid-client");

const BASE = `http://127.0.0.1:${WITH_KEYS.port}`;

test("openid-client configures itself from the metadata alone: client_credentials, introspection, revocation", async ({ request }) => {
  const client = await openid();
  const app = createApp("E2E standard client");
  // Only the issuer is given; every endpoint comes from /.well-known/oauth-authorization-server/admin.
  const config = await client.discovery(new URL(`${BASE}/admin`), app.client_id, undefined, client.ClientSecretBasic(app.client_secret), {
    algorithm: "oauth2",
    execute: [client.allowInsecureRequests],
  });
  const metadata = config.serverMetadata();
  expect(metadata.issuer).toBe(`${BASE}/admin`);
  expect(metadata.token_endpoint).toBe(`${BASE}/oauth2-token`);
  expect(metadata.revocation_endpoint).toBe(`${BASE}/oauth2-token/revoke`);
  expect(metadata.introspection_endpoint).toBe(`${BASE}/oauth2-token/introspect`);
  expect(metadata.code_challenge_methods_supported).toEqual(["S256"]);

  const tokens = await client.clientCredentialsGrant(config, { scope: "users:read" });
  expect(tokens.token_type.toLowerCase()).toBe("bearer");
  expect(tokens.expires_in).toBe(3600);
  expect(tokens.refresh_token).toBeUndefined();

  const live = await client.tokenIntrospection(config, tokens.access_token);
  expect(live.active).toBe(true);
  expect(live.client_id).toBe(app.client_id);
  expect(live.scope).toBe("users:read");
  expect(live.iss).toBe(`${BASE}/admin`);
  const api = () => request.get("/api/users", { headers: { Authorization: `Bearer ${tokens.access_token}` } });
  expect((await api()).status()).toBe(200);

  await client.tokenRevocation(config, tokens.access_token, { token_type_hint: "access_token" });
  const after = await client.tokenIntrospection(config, tokens.access_token);
  expect(after.active).toBe(false);
  expect((await api()).status(), "a revoked token is refused at once").toBe(401);

  // A wrong secret: the library surfaces the RFC 6749 error.
  const wrong = await client.discovery(new URL(`${BASE}/admin`), app.client_id, undefined, client.ClientSecretPost("wrong"), {
    algorithm: "oauth2",
    execute: [client.allowInsecureRequests],
  });
  await expect(client.clientCredentialsGrant(wrong)).rejects.toMatchObject({ error: "invalid_client" });
});

test("openid-client discovers the storefront issuer with its own authorization endpoint", async () => {
  const client = await openid();
  const config = await client.discovery(new URL(BASE), "any-client", undefined, client.None(), {
    algorithm: "oauth2",
    execute: [client.allowInsecureRequests],
  });
  const metadata = config.serverMetadata();
  expect(metadata.issuer).toBe(BASE);
  expect(metadata.authorization_endpoint).toBe(`${BASE}/oauth2-token/authorize`);
  expect(metadata.scopes_supported).toEqual(["profile", "openid", "email", "offline_access"]);
  expect(metadata.token_endpoint).toBe(`${BASE}/oauth2-token`);
  // And the JWKS it names holds the signing key of the tokens.
  const jwks = await (await fetch(metadata.jwks_uri!)).json();
  expect(jwks.keys.length).toBeGreaterThan(0);
  expect(jwks.keys[0]).toMatchObject({ kty: "RSA", alg: "RS256", use: "sig" });
});
