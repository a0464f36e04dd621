import { test, expect, Page, Browser, APIRequestContext } from "@playwright/test";
import * as crypto from "crypto";
import { ADMIN_PASSWORD } from "../playwright.config";
import { hydrated, postern, screenshot } from "./helpers";

// The authorization code flow in a real browser, against the release
// binary: a third-party application sends the person to Postern, they sign
// in and consent, and the application exchanges the code. The applications
// and the customer user are made with the `postern` command line, on the
// same database the running server uses.
test.describe.configure({ mode: "serial" });

const CALLBACK = "http://127.0.0.1:3199/callback";
const CUSTOMER = { username: "e2e-shopper", password: "e2e shopper password" };

type App = { client_id: string; client_secret: string | null };
const apps: Record<string, App> = {};
let shopRefresh = "";

function createApp(name: string, extra: string[]): App {
  const out = postern(["app", "create", "--name", name, "--grant", "authorization_code", "--redirect-uri", CALLBACK, "--json", ...extra]);
  apps[name] = JSON.parse(out);
  return apps[name];
}

function pkce() {
  const verifier = crypto.randomBytes(32).toString("base64url");
  const challenge = crypto.createHash("sha256").update(verifier).digest("base64url");
  return { verifier, challenge };
}

function authorizeUrl(side: "admin" | "storefront", app: App, state: string, extra: Record<string, string> = {}) {
  const prefix = side === "admin" ? "/admin" : "";
  const params = new URLSearchParams({ response_type: "code", client_id: app.client_id, redirect_uri: CALLBACK, state, ...extra });
  return `${prefix}/oauth2-token/authorize?${params}`;
}

/** The third-party application's callback: nothing listens there, so the browser's request is answered here. */
async function catchCallback(page: Page) {
  await page.route(`${CALLBACK}**`, (route) => route.fulfill({ status: 200, contentType: "text/html", body: "<h1>Back at the application</h1>" }));
}

async function callbackParams(page: Page) {
  await page.waitForURL(`${CALLBACK}**`);
  return new URL(page.url()).searchParams;
}

async function signIn(page: Page, username: string, password: string, app: string) {
  await expect(page.getByText(`Sign in to continue to "${app}".`)).toBeVisible();
  await page.getByLabel("User name").fill(username);
  await page.getByLabel("Password", { exact: true }).fill(password);
  await page.getByRole("button", { name: "Sign in" }).click();
}

async function exchange(request: APIRequestContext, form: Record<string, string>) {
  const response = await request.post("/oauth2-token", { form });
  return { status: response.status(), body: await response.json() };
}

test.beforeAll(() => {
  postern(["customer", "create", "--username", CUSTOMER.username, "--email", "shopper@example.com", "--password-stdin"], CUSTOMER.password);
  createApp("Back-office reporting", ["--owner", "admin"]);
  createApp("Shop companion", ["--customer", CUSTOMER.username, "--public"]);
  createApp("Trusted console", ["--owner", "admin", "--skip-consent"]);
});

test("a back-office app: authorize, sign in, consent, code for a token that works on its own API only", async ({ page, request }) => {
  const app = apps["Back-office reporting"];
  await catchCallback(page);
  await page.goto(authorizeUrl("admin", app, "state-bo-1", { scope: "users:read" }));
  await expect(page).toHaveURL(/\/admin\/login\?redirect=/);
  await hydrated(page);
  await signIn(page, "admin", ADMIN_PASSWORD, "Back-office reporting");

  await expect(page.getByRole("heading", { name: '"Back-office reporting" wants to access your account.' })).toBeVisible();
  await expect(page.getByText(/Read the users of .+ as you can see them: user names, email addresses/)).toBeVisible();
  await hydrated(page);
  await screenshot(page, "consent-backoffice");
  await page.getByRole("button", { name: "Grant" }).click();
  const params = await callbackParams(page);
  expect(params.get("state")).toBe("state-bo-1");
  const code = params.get("code")!;
  expect(code).toBeTruthy();

  // Confidential client: authenticates with its secret.
  const token = await exchange(request, {
    grant_type: "authorization_code", code, redirect_uri: CALLBACK, client_id: app.client_id, client_secret: app.client_secret!,
  });
  expect(token.status).toBe(200);
  expect(token.body.refresh_token).toBeTruthy();
  const bearer = { Authorization: `Bearer ${token.body.access_token}` };
  expect((await request.get("/api/users", { headers: bearer })).status()).toBe(200);
  expect((await request.get("/storefront/api/customerusers/mine", { headers: bearer })).status()).toBe(401);
  // The code works once.
  const again = await exchange(request, {
    grant_type: "authorization_code", code, redirect_uri: CALLBACK, client_id: app.client_id, client_secret: app.client_secret!,
  });
  expect(again.status).toBe(400);
  expect(again.body.error).toBe("invalid_grant");
});

test("a storefront public app with PKCE: the customer signs in on the storefront and consents", async ({ page, request }) => {
  const app = apps["Shop companion"];
  const { verifier, challenge } = pkce();
  await catchCallback(page);
  await page.goto(authorizeUrl("storefront", app, "state-sf-1", { code_challenge: challenge, code_challenge_method: "S256" }));
  await expect(page).toHaveURL(/\/login\?redirect=/);
  await hydrated(page);
  await signIn(page, CUSTOMER.username, CUSTOMER.password, "Shop companion");
  await expect(page.getByRole("heading", { name: '"Shop companion" wants to access your account.' })).toBeVisible();
  await expect(page.getByText("Read your customer profile")).toBeVisible();
  await screenshot(page, "consent-storefront");
  await page.getByRole("button", { name: "Grant" }).click();
  const params = await callbackParams(page);
  expect(params.get("state")).toBe("state-sf-1");

  // Public client: no secret, the verifier instead.
  const token = await exchange(request, {
    grant_type: "authorization_code", code: params.get("code")!, redirect_uri: CALLBACK, client_id: app.client_id, code_verifier: verifier,
  });
  expect(token.status).toBe(200);
  const bearer = { Authorization: `Bearer ${token.body.access_token}` };
  const mine = await request.get("/storefront/api/customerusers/mine", { headers: bearer });
  expect(mine.status()).toBe(200);
  expect((await mine.json()).data.attributes.username).toBe(CUSTOMER.username);
  expect((await request.get("/api/users", { headers: bearer })).status()).toBe(401);
  shopRefresh = token.body.refresh_token;
});

test("revoking on Authorized applications makes the refresh token fail", async ({ page, request }) => {
  const app = apps["Shop companion"];
  // Each test has a new browser context: sign in on the storefront first.
  await page.goto("/account/applications");
  await expect(page).toHaveURL(/\/login\?redirect=%2Faccount%2Fapplications/);
  await page.getByLabel("User name").fill(CUSTOMER.username);
  await page.getByLabel("Password", { exact: true }).fill(CUSTOMER.password);
  await page.getByRole("button", { name: "Sign in" }).click();
  await expect(page.getByRole("heading", { name: "Authorized applications" })).toBeVisible();
  await hydrated(page);
  const item = page.getByTestId("authorized-application").filter({ hasText: "Shop companion" });
  await expect(item).toContainText("Read your customer profile");
  await screenshot(page, "authorized-applications");
  await item.getByRole("button", { name: "Revoke access of Shop companion" }).click();
  await expect(page.getByText("You have not authorized any application.")).toBeVisible();

  const refreshed = await exchange(request, { grant_type: "refresh_token", refresh_token: shopRefresh, client_id: app.client_id });
  expect(refreshed.status).toBe(400);
  expect(refreshed.body.error).toBe("invalid_grant");
});

test("Cancel on the consent page sends access_denied back", async ({ page }) => {
  const app = createApp("Cancel me", ["--owner", "admin"]);
  await catchCallback(page);
  await page.goto(authorizeUrl("admin", app, "state-cancel"));
  await signIn(page, "admin", ADMIN_PASSWORD, "Cancel me");
  await expect(page.getByRole("heading", { name: '"Cancel me" wants to access your account.' })).toBeVisible();
  await hydrated(page);
  await page.getByRole("button", { name: "Cancel" }).click();
  const denied = await callbackParams(page);
  expect(denied.get("error")).toBe("access_denied");
  expect(denied.get("state")).toBe("state-cancel");
  expect(denied.get("code")).toBeNull();
  expect(denied.get("iss"), "RFC 9207: errors name their issuer too").toMatch(/\/admin$/);
});

test("a person of another organization is turned away: no consent, no code, no token", async ({ page }) => {
  // Organizations are walls (SECURITY.md): before, Bob of "Elsewhere" could
  // authorize an application of "Default" and read its users with the token.
  postern(["user", "create", "--username", "e2e-outsider", "--email", "outsider@example.com", "--organization", "Elsewhere", "--password-stdin"], "outsider password 1");
  const app = apps["Back-office reporting"];
  const { challenge } = pkce();
  await catchCallback(page);
  await page.goto(authorizeUrl("admin", app, "state-outsider", { scope: "users:read", code_challenge: challenge, code_challenge_method: "S256" }));
  await signIn(page, "e2e-outsider", "outsider password 1", "Back-office reporting");
  const params = await callbackParams(page);
  expect(params.get("error")).toBe("access_denied");
  expect(params.get("error_description")).toContain("organization");
  expect(params.get("state")).toBe("state-outsider");
  expect(params.get("iss")).toMatch(/\/admin$/);
  expect(params.get("code")).toBeNull();
});

test("a skip-consent app gets its code without a consent page", async ({ page }) => {
  const app = apps["Trusted console"];
  await catchCallback(page);
  await page.goto(authorizeUrl("admin", app, "state-skip"));
  await signIn(page, "admin", ADMIN_PASSWORD, "Trusted console");
  const params = await callbackParams(page);
  expect(params.get("state")).toBe("state-skip");
  expect(params.get("code")).toBeTruthy();
});

test("with JavaScript disabled: sign in and consent are plain forms that work", async ({ browser, request }) => {
  const context = await (browser as Browser).newContext({ javaScriptEnabled: false });
  const page = await context.newPage();
  await catchCallback(page);
  const app = createApp("No-script app", ["--owner", "admin"]);
  await page.goto(authorizeUrl("admin", app, "state-nojs"));
  await signIn(page, "admin", ADMIN_PASSWORD, "No-script app");
  await expect(page.getByRole("heading", { name: '"No-script app" wants to access your account.' })).toBeVisible();
  await expect(page.locator("body")).not.toHaveAttribute("data-hydrated", "true");
  await page.getByRole("button", { name: "Grant" }).click();
  const params = await callbackParams(page);
  expect(params.get("state")).toBe("state-nojs");
  const token = await exchange(request, {
    grant_type: "authorization_code", code: params.get("code")!, redirect_uri: CALLBACK, client_id: app.client_id, client_secret: app.client_secret!,
  });
  expect(token.status).toBe(200);
  await context.close();
});
