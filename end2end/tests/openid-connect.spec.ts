import { test, expect, Page } from "@playwright/test";
import * as crypto from "crypto";
import * as http from "http";
import { ADMIN_PASSWORD, WITH_KEYS } from "../playwright.config";
import { createCodeApp, hydrated, postern, screenshot } from "./helpers";

// OpenID Connect as a relying party sees it, with openid-client 6 (panva) at
// its default strictness: discovery, the authentication request with PKCE,
// nonce and state, the ID token the library validates, UserInfo, a refresh
// that returns a new ID token, and RP-initiated logout. The only relaxation
// is allowInsecureRequests (plain http on loopback). Because of that, TLS
// does not vouch for the token endpoint here: the library is also told to
// verify the ID tokens' signatures against the JWKS (non-repudiation checks,
// stricter than its default).
//
// The browser does what a person does: signs in, consents, signs out. The
// relying party's own pages (its callback, its signed-out page) are served
// by a small HTTP server on loopback: page.route does not see a request the
// browser makes by following a redirect, and both arrive that way.
test.describe.configure({ mode: "serial" });

const openid = () => import("openid-client");

const BASE = `http://127.0.0.1:${WITH_KEYS.port}`;
const RP_PORT = 3198;
const CALLBACK = `http://127.0.0.1:${RP_PORT}/oidc/callback`;
const SIGNED_OUT = `http://127.0.0.1:${RP_PORT}/oidc/signed-out`;
const CUSTOMER = { username: "e2e-oidc-shopper", email: "oidc-shopper@example.com", password: "e2e oidc shopper password" };

type App = { client_id: string; client_secret: string | null };
let backOffice: App;
let storefront: App;
let relyingParty: http.Server;

test.beforeAll(async () => {
  relyingParty = http.createServer((req, res) => {
    const page = new URL(req.url ?? "/", CALLBACK).pathname;
    const headings: Record<string, string> = { "/oidc/callback": "Signed in at the application", "/oidc/signed-out": "Signed out of the application" };
    const heading = headings[page];
    res.writeHead(heading ? 200 : 404, { "Content-Type": "text/html; charset=utf-8", Connection: "close" });
    res.end(`<!DOCTYPE html><html lang="en"><title>Relying party</title><h1>${heading ?? "Not found"}</h1></html>`);
  });
  await new Promise<void>((resolve, reject) => relyingParty.once("error", reject).listen(RP_PORT, "127.0.0.1", resolve));

  postern(["customer", "create", "--username", CUSTOMER.username, "--email", CUSTOMER.email, "--password-stdin"], CUSTOMER.password);
  backOffice = createCodeApp("OIDC intranet", { owner: "admin", redirectUri: CALLBACK, postLogoutRedirectUris: [SIGNED_OUT] });
  storefront = createCodeApp("OIDC shop app", {
    customer: CUSTOMER.username,
    public: true,
    redirectUri: CALLBACK,
    postLogoutRedirectUris: [SIGNED_OUT],
  });
});

test.afterAll(async () => {
  relyingParty.closeAllConnections();
  await new Promise((resolve) => relyingParty.close(resolve));
});

async function signIn(page: Page, username: string, password: string, app: string) {
  await hydrated(page);
  await expect(page.getByText(`Sign in to continue to "${app}".`)).toBeVisible();
  await page.getByLabel("User name").fill(username);
  await page.getByLabel("Password", { exact: true }).fill(password);
  await page.getByRole("button", { name: "Sign in" }).click();
}

/** The consent page lists exactly what the application will learn, then Grant. */
async function consent(page: Page, app: string, learns: RegExp[], shot: string) {
  await expect(page.getByRole("heading", { name: `"${app}" wants to access your account.` })).toBeVisible();
  await expect(page.getByRole("list", { name: "Requested access" }).getByRole("listitem")).toHaveText(learns);
  await hydrated(page);
  await screenshot(page, shot);
  await page.getByRole("button", { name: "Grant" }).click();
}

/** The compact JWS's header, as the relying party receives it. */
function joseHeader(jwt: string) {
  return JSON.parse(Buffer.from(jwt.split(".")[0], "base64url").toString());
}

/** OpenID Connect Core §3.1.3.6: the left half of the SHA-256 of the access token. */
function atHash(accessToken: string) {
  return crypto.createHash("sha256").update(accessToken).digest().subarray(0, 16).toString("base64url");
}

const seconds = () => Math.floor(Date.now() / 1000);

test("a back-office user signs in to an OpenID Connect relying party, which refreshes and then signs them out", async ({ page }) => {
  const client = await openid();
  const config = await client.discovery(new URL(`${BASE}/admin`), backOffice.client_id, backOffice.client_secret!, undefined, {
    execute: [client.allowInsecureRequests, client.enableNonRepudiationChecks],
  });
  const metadata = config.serverMetadata();
  expect(metadata.issuer).toBe(`${BASE}/admin`);
  expect(metadata.authorization_endpoint).toBe(`${BASE}/admin/oauth2-token/authorize`);
  expect(metadata.userinfo_endpoint).toBe(`${BASE}/admin/oauth2-token/userinfo`);
  expect(metadata.end_session_endpoint).toBe(`${BASE}/admin/oauth2-token/logout`);
  expect(metadata.id_token_signing_alg_values_supported).toEqual(["RS256"]);
  expect(metadata.claims_parameter_supported).toBe(true);
  expect(metadata.prompt_values_supported).toEqual(expect.arrayContaining(["none", "login", "consent"]));
  expect(metadata.scopes_supported).toEqual(expect.arrayContaining(["openid", "profile", "email"]));

  const pkceCodeVerifier = client.randomPKCECodeVerifier();
  const nonce = client.randomNonce();
  const state = client.randomState();
  const authorizationUrl = client.buildAuthorizationUrl(config, {
    redirect_uri: CALLBACK,
    scope: "openid profile email",
    code_challenge: await client.calculatePKCECodeChallenge(pkceCodeVerifier),
    code_challenge_method: "S256",
    nonce,
    state,
  });

  const before = seconds();
  await page.goto(authorizationUrl.href);
  await expect(page).toHaveURL(/\/admin\/login\?redirect=/);
  await signIn(page, "admin", ADMIN_PASSWORD, "OIDC intranet");
  await consent(
    page,
    "OIDC intranet",
    [/who you are.*\(openid\)$/, /user name and your language.*\(profile\)$/, /email address.*\(email\)$/],
    "consent-openid-backoffice",
  );
  await page.waitForURL(`${CALLBACK}**`);

  // The library checks state, iss (RFC 9207), the code, and the ID token:
  // signature, iss, aud, azp, exp, iat, nonce.
  const tokens = await client.authorizationCodeGrant(config, new URL(page.url()), { pkceCodeVerifier, expectedNonce: nonce, expectedState: state });
  const after = seconds();
  const idToken = tokens.id_token!;
  expect(joseHeader(idToken)).toMatchObject({ alg: "RS256", typ: "JWT", kid: expect.any(String) });
  const claims = tokens.claims()!;
  expect(claims).toMatchObject({
    iss: `${BASE}/admin`,
    aud: backOffice.client_id,
    azp: backOffice.client_id,
    nonce,
    preferred_username: "admin",
    email: "admin@example.com",
    email_verified: false,
    at_hash: atHash(tokens.access_token),
  });
  expect(claims.sub).toMatch(/^\d+$/);
  expect(claims.locale).toEqual(expect.any(String));
  expect(claims.updated_at).toEqual(expect.any(Number));
  const authTime = claims.auth_time!;
  expect(authTime, "auth_time is when the person signed in, during this test").toBeGreaterThanOrEqual(before - 1);
  expect(authTime).toBeLessThanOrEqual(after);

  const userinfo = await client.fetchUserInfo(config, tokens.access_token, claims.sub);
  expect(userinfo).toEqual({
    sub: claims.sub,
    preferred_username: "admin",
    locale: claims.locale,
    updated_at: claims.updated_at,
    email: "admin@example.com",
    email_verified: false,
  });

  // A refresh: a new ID token the library accepts, for the same sign-in and person, without the nonce.
  const refreshed = await client.refreshTokenGrant(config, tokens.refresh_token!);
  expect(refreshed.id_token).toBeTruthy();
  expect(refreshed.id_token).not.toBe(idToken);
  const again = refreshed.claims()!;
  expect(again).toMatchObject({ sub: claims.sub, aud: backOffice.client_id, auth_time: authTime, preferred_username: "admin" });
  expect(again.nonce).toBeUndefined();
  expect(again.at_hash).toBe(atHash(refreshed.access_token));

  // RP-initiated logout with the ID token: no question, straight back to the application with its state.
  const logoutState = client.randomState();
  const endSession = client.buildEndSessionUrl(config, { id_token_hint: refreshed.id_token!, post_logout_redirect_uri: SIGNED_OUT, state: logoutState });
  await page.goto(endSession.href);
  await expect(page).toHaveURL(`${SIGNED_OUT}?state=${logoutState}`);
  await expect(page.getByRole("heading", { name: "Signed out of the application" })).toBeVisible();

  // The back office has forgotten the session.
  await page.goto("/admin");
  await expect(page).toHaveURL(/\/admin\/login\?redirect=/);
});

test("a storefront customer signs in to a public OpenID Connect client with PKCE and signs out from it", async ({ page }) => {
  const client = await openid();
  const config = await client.discovery(new URL(BASE), storefront.client_id, undefined, client.None(), {
    execute: [client.allowInsecureRequests, client.enableNonRepudiationChecks],
  });
  const metadata = config.serverMetadata();
  expect(metadata.issuer).toBe(BASE);
  expect(metadata.authorization_endpoint).toBe(`${BASE}/oauth2-token/authorize`);
  expect(metadata.userinfo_endpoint).toBe(`${BASE}/oauth2-token/userinfo`);
  expect(metadata.end_session_endpoint).toBe(`${BASE}/oauth2-token/logout`);
  expect(metadata.id_token_signing_alg_values_supported).toEqual(["RS256"]);
  expect(metadata.scopes_supported).toEqual(expect.arrayContaining(["openid", "email"]));

  const pkceCodeVerifier = client.randomPKCECodeVerifier();
  const nonce = client.randomNonce();
  const state = client.randomState();
  const authorizationUrl = client.buildAuthorizationUrl(config, {
    redirect_uri: CALLBACK,
    scope: "openid email",
    code_challenge: await client.calculatePKCECodeChallenge(pkceCodeVerifier),
    code_challenge_method: "S256",
    nonce,
    state,
  });

  const before = seconds();
  await page.goto(authorizationUrl.href);
  await expect(page).toHaveURL(/\/login\?redirect=/);
  await signIn(page, CUSTOMER.username, CUSTOMER.password, "OIDC shop app");
  await consent(
    page,
    "OIDC shop app",
    [/who you are.*\(openid\)$/, /email address.*\(email\)$/],
    "consent-openid-storefront",
  );
  await page.waitForURL(`${CALLBACK}**`);

  const tokens = await client.authorizationCodeGrant(config, new URL(page.url()), { pkceCodeVerifier, expectedNonce: nonce, expectedState: state });
  const claims = tokens.claims()!;
  expect(claims).toMatchObject({ iss: BASE, aud: storefront.client_id, nonce, email: CUSTOMER.email, email_verified: false });
  expect(claims.sub).toMatch(/^\d+$/);
  expect(claims.preferred_username, "the profile scope was not asked for").toBeUndefined();
  expect(claims.auth_time!).toBeGreaterThanOrEqual(before - 1);

  const userinfo = await client.fetchUserInfo(config, tokens.access_token, claims.sub);
  expect(userinfo).toEqual({ sub: claims.sub, email: CUSTOMER.email, email_verified: false });

  const refreshed = await client.refreshTokenGrant(config, tokens.refresh_token!);
  const again = refreshed.claims()!;
  expect(again).toMatchObject({ sub: claims.sub, auth_time: claims.auth_time, email: CUSTOMER.email });
  expect(again.nonce).toBeUndefined();

  const logoutState = client.randomState();
  const endSession = client.buildEndSessionUrl(config, { id_token_hint: tokens.id_token!, post_logout_redirect_uri: SIGNED_OUT, state: logoutState });
  await page.goto(endSession.href);
  await expect(page).toHaveURL(`${SIGNED_OUT}?state=${logoutState}`);

  // The storefront has forgotten the session.
  await page.goto("/account/applications");
  await expect(page).toHaveURL(/\/login\?redirect=%2Faccount%2Fapplications/);
});

/** Signs in to the back office through its login form. */
async function signInToBackOffice(page: Page) {
  await page.goto("/admin");
  await expect(page).toHaveURL(/\/admin\/login\?redirect=/);
  await hydrated(page);
  await page.getByLabel("User name").fill("admin");
  await page.getByLabel("Password", { exact: true }).fill(ADMIN_PASSWORD);
  await page.getByRole("button", { name: "Sign in" }).click();
  await expect(page.getByRole("heading", { name: "Dashboard" })).toBeVisible();
}

async function backOfficeConfig() {
  const client = await openid();
  const config = await client.discovery(new URL(`${BASE}/admin`), backOffice.client_id, backOffice.client_secret!, undefined, {
    execute: [client.allowInsecureRequests],
  });
  return { client, config };
}

test("a logout request without id_token_hint asks first: Stay signed in keeps the session, Sign out ends it", async ({ page }) => {
  const { client, config } = await backOfficeConfig();
  await signInToBackOffice(page);

  // Any site could send the browser here: without a hint, the person is asked.
  const endSession = client.buildEndSessionUrl(config);
  expect(endSession.searchParams.get("client_id")).toBe(backOffice.client_id);
  await page.goto(endSession.href);
  await expect(page.getByTestId("logout-question")).toHaveText("Sign out of the Postern back office?");
  await expect(page.getByText('"OIDC intranet" asks to sign you out.')).toBeVisible();
  await screenshot(page, "logout-question");
  await page.getByRole("button", { name: "Stay signed in" }).click();
  await expect(page.getByRole("heading", { name: "You are still signed in" })).toBeVisible();
  await page.goto("/admin");
  await expect(page.getByRole("heading", { name: "Dashboard" })).toBeVisible();

  await page.goto(endSession.href);
  await expect(page.getByTestId("logout-question")).toBeVisible();
  await page.getByRole("button", { name: "Sign out" }).click();
  // No post_logout_redirect_uri: Postern says so itself.
  await expect(page.getByRole("heading", { name: "You are signed out" })).toBeVisible();
  await expect(page.getByText("You have been signed out of the Postern back office.")).toBeVisible();
  await page.goto("/admin");
  await expect(page).toHaveURL(/\/admin\/login\?redirect=/);
});

test("after Sign out on the confirmation page, the browser goes back to the application with its state", async ({ page }) => {
  const { client, config } = await backOfficeConfig();
  await signInToBackOffice(page);
  const blocked: string[] = [];
  page.on("console", (message) => {
    if (message.text().includes("Content Security Policy")) blocked.push(message.text());
  });

  const logoutState = client.randomState();
  const endSession = client.buildEndSessionUrl(config, { post_logout_redirect_uri: SIGNED_OUT, state: logoutState });
  await page.goto(endSession.href);
  await expect(page.getByTestId("logout-question")).toBeVisible();
  await page.getByRole("button", { name: "Sign out" }).click();
  await Promise.race([
    page.waitForURL(`${SIGNED_OUT}**`),
    page.waitForEvent("console", (message) => message.text().includes("Content Security Policy")),
  ]).catch(() => {});
  expect(blocked, "the browser blocks nothing on the way back to the application").toEqual([]);
  await expect(page).toHaveURL(`${SIGNED_OUT}?state=${logoutState}`);
  await expect(page.getByRole("heading", { name: "Signed out of the application" })).toBeVisible();
  await page.goto("/admin");
  await expect(page).toHaveURL(/\/admin\/login\?redirect=/);
});
