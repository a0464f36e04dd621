import { expect, Page } from "@playwright/test";
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
