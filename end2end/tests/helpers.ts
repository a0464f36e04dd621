import { expect, Page } from "@playwright/test";
import * as fs from "fs";
import * as path from "path";
import { ADMIN_PASSWORD } from "../playwright.config";

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
