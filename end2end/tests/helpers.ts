import { APIRequestContext, expect, Page } from "@playwright/test";
import * as fs from "fs";
import * as path from "path";
import { execFileSync } from "child_process";
import { ADMIN_PASSWORD, ROOT, WITH_KEYS } from "../playwright.config";

export const MISSING_KEYS_WARNING =
  "OAuth authorization is not available as encryption keys configuration was not complete. Please contact your administrator.";

export const SCREENSHOTS = path.resolve(__dirname, "..", "screenshots");

export async function screenshot(page: Page, name: string) {
  fs.mkdirSync(SCREENSHOTS, { recursive: true });
  await page.screenshot({ path: path.join(SCREENSHOTS, `${name}.png`), fullPage: true });
}

/** Logs in through the real login form, as a person would. */
export async function logIn(page: Page, password = ADMIN_PASSWORD, username = "admin") {
  await page.goto("/admin");
  await expect(page).toHaveURL(/\/admin\/login\?redirect=/);
  await page.getByLabel("User name").fill(username);
  await page.getByLabel("Password", { exact: true }).fill(password);
  await page.getByRole("button", { name: "Sign in" }).click();
}

/** Waits until the WASM has hydrated the page. */
export async function hydrated(page: Page) {
  await expect(page.locator("body")).toHaveAttribute("data-hydrated", "true");
}

/** Runs the real CLI against the running (with keys) server's database and key files. */
export function postern(args: string[], input?: string): string {
  return execFileSync(path.join(ROOT, "target/release/postern"), args, {
    cwd: ROOT,
    input,
    env: {
      ...process.env,
      POSTERN_DATABASE_URL: `sqlite://${WITH_KEYS.dir}/postern.db`,
      POSTERN_PRIVATE_KEY: `${WITH_KEYS.dir}/oauth_private.key`,
      POSTERN_PUBLIC_KEY: `${WITH_KEYS.dir}/oauth_public.key`,
      POSTERN_LOG: "warn",
    },
  }).toString();
}

/** A client_credentials application of the admin, made with the CLI. */
export function createApp(name: string): { client_id: string; client_secret: string } {
  return JSON.parse(postern(["app", "create", "--owner", "admin", "--name", name, "--grant", "client_credentials", "--json"]));
}

/** A new access token for `app` from the token endpoint (client_credentials). */
export async function clientCredentialsToken(
  request: APIRequestContext,
  app: { client_id: string; client_secret: string },
): Promise<string> {
  const response = await request.post("/oauth2-token", {
    form: { grant_type: "client_credentials", client_id: app.client_id, client_secret: app.client_secret },
  });
  expect(response.status()).toBe(200);
  return (await response.json()).access_token as string;
}

/** Whether this build's `postern app create` takes --post-logout-redirect-uri. */
let postLogoutFlag: boolean | undefined;
export function appCreateTakesPostLogoutUris(): boolean {
  postLogoutFlag ??= postern(["app", "create", "--help"]).includes("--post-logout-redirect-uri");
  return postLogoutFlag;
}

/**
 * An authorization_code application made with the CLI: of the admin (back
 * office) or of a customer (storefront), with its redirect URI and the URIs
 * RP-initiated logout may send the browser back to.
 */
export function createCodeApp(
  name: string,
  opts: { owner?: string; customer?: string; public?: boolean; redirectUri: string; postLogoutRedirectUris?: string[] },
): { client_id: string; client_secret: string | null } {
  const args = ["app", "create", "--name", name, "--grant", "authorization_code", "--redirect-uri", opts.redirectUri, "--json"];
  if (opts.customer) args.push("--customer", opts.customer);
  else args.push("--owner", opts.owner ?? "admin");
  if (opts.public) args.push("--public");
  const logout = opts.postLogoutRedirectUris ?? [];
  const flag = appCreateTakesPostLogoutUris();
  if (flag) for (const uri of logout) args.push("--post-logout-redirect-uri", uri);
  const app = JSON.parse(postern(args));
  if (!flag && logout.length > 0) registerPostLogoutUrisInDatabase(app.client_id, logout);
  return app;
}

/**
 * Stop-gap while the CLI cannot register post-logout redirect URIs: the
 * rows `--post-logout-redirect-uri` would write, in the running server's
 * SQLite database (Debian's sqlite3). Goes once the flag is in the build.
 */
function registerPostLogoutUrisInDatabase(clientId: string, uris: string[]) {
  const quote = (s: string) => `'${s.replace(/'/g, "''")}'`;
  const sql = uris
    .map((uri, position) =>
      `INSERT INTO oauth_application_post_logout_redirect_uris (application_id, position, uri) ` +
      `SELECT id, ${position}, ${quote(uri)} FROM oauth_applications WHERE client_id = ${quote(clientId)};`,
    )
    .join("\n");
  execFileSync("sqlite3", ["-bail", path.join(WITH_KEYS.dir, "postern.db")], { input: `.timeout 5000\n${sql}\n` });
}
