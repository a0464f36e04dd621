import { test, expect, Page } from "@playwright/test";
import { ADMIN_PASSWORD } from "../playwright.config";
import { clientCredentialsToken, createApp, hydrated, logIn, postern, screenshot } from "./helpers";

function kidOf(token: string): string {
  return JSON.parse(Buffer.from(token.split(".")[0], "base64url").toString()).kid;
}

/** Collects Content Security Policy violations the browser reports. */
function cspViolations(page: Page): string[] {
  const seen: string[] = [];
  page.on("console", (message) => {
    if (message.text().includes("Content Security Policy")) seen.push(message.text());
  });
  return seen;
}

test("keys rotate on the running server: old tokens keep verifying, new ones carry the new kid, no restart", async ({ request }) => {
  const app = createApp("E2E rotation");
  const token = () => clientCredentialsToken(request, app);
  const before = await token();
  const oldKid = kidOf(before);

  const out = postern(["keys", "rotate"]);
  expect(out).toContain(`The old key ${oldKid} still verifies the tokens it signed`);
  const newKid = out.match(/The new signing key is (\S+)\./)![1];

  // The server notices within its key reload interval (5 s).
  await expect.poll(async () => kidOf(await token()), { timeout: 20_000, intervals: [500] }).toBe(newKid);

  const jwks = await (await request.get("/.well-known/jwks.json")).json();
  expect(jwks.keys.map((k: any) => k.kid)).toEqual([newKid, oldKid]);
  const api = await request.get("/api/users", { headers: { Authorization: `Bearer ${before}` } });
  expect(api.status(), "a token signed before the rotation still works").toBe(200);
});

test("the audit log shows failed sign-ins and filters by type and user", async ({ page }) => {
  const violations = cspViolations(page);
  await logIn(page, "not the password");
  await expect(page.getByRole("alert")).toContainText("Invalid user name or password");
  await logIn(page, ADMIN_PASSWORD);
  await expect(page.getByRole("heading", { name: "Dashboard" })).toBeVisible();

  await page.getByRole("link", { name: "Audit Log" }).click();
  await expect(page).toHaveURL(/\/admin\/system\/audit-log$/);
  await expect(page.getByRole("heading", { name: "Audit Log" })).toBeVisible();
  await hydrated(page);
  await expect(page.locator("#failed-logins")).not.toHaveText("0");

  await page.getByLabel("Type").selectOption({ label: "Sign-in failed" });
  const rows = page.locator("#audit-log tbody tr");
  await expect(rows.first()).toContainText("Sign-in failed");
  for (const row of await rows.all()) {
    await expect(row).toContainText("Sign-in failed");
  }
  await expect(rows.first()).toContainText("admin");

  await page.getByLabel("Type").selectOption({ label: "All token events" });
  await page.getByLabel("Application").fill("E2E rotation");
  await expect(rows.first()).toContainText("Token issued");
  await expect(rows.first()).toContainText("E2E rotation");
  await expect(rows.first()).toContainText("grant client_credentials");
  await screenshot(page, "audit-log");

  await page.getByLabel("Application").fill("no such application");
  await expect(page.getByText("Nothing matches these filters.")).toBeVisible();
  expect(violations, "the page's CSP lets the app hydrate and run").toEqual([]);
});
