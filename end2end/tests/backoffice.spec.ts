import { test, expect } from "@playwright/test";
import { WITHOUT_KEYS } from "../playwright.config";
import { hydrated, logIn, MISSING_KEYS_WARNING, screenshot } from "./helpers";

test("the first admin logs in and sees the dashboard", async ({ page }) => {
  await page.goto("/admin/login");
  await screenshot(page, "login");
  await logIn(page);
  await expect(page).toHaveURL(/\/admin$/);
  await expect(page.getByRole("heading", { name: "Dashboard" })).toBeVisible();
  await expect(page.getByText(MISSING_KEYS_WARNING)).toHaveCount(0);
  await expect(page.locator("#token-endpoint")).toHaveText(/\/oauth2-token$/);
  await screenshot(page, "dashboard");
});

test("a wrong password is refused with a message beside the form", async ({ page }) => {
  await logIn(page, "not-the-password");
  await expect(page).toHaveURL(/\/admin\/login\?error=invalid_credentials/);
  await expect(page.getByRole("alert")).toHaveText("Invalid user name or password.");
});

test("hydration: the copy button copies the token endpoint in the browser", async ({ page, context }) => {
  await context.grantPermissions(["clipboard-read", "clipboard-write"]);
  await logIn(page);
  await hydrated(page);
  const endpoint = (await page.locator("#token-endpoint").textContent())!.trim();
  const copy = page.getByRole("button", { name: "Copy" });
  await copy.click();
  await expect(page.getByRole("button", { name: "Copied" })).toBeVisible();
  expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(endpoint);
});

test("hydration: the password field can be revealed before signing in", async ({ page }) => {
  await page.goto("/admin/login");
  await hydrated(page);
  const password = page.getByLabel("Password", { exact: true });
  await password.fill("secret-value");
  await expect(password).toHaveAttribute("type", "password");
  await page.getByRole("button", { name: "Show" }).click();
  await expect(password).toHaveAttribute("type", "text");
});

test("the user menu logs out", async ({ page }) => {
  await logIn(page);
  await hydrated(page);
  await page.locator("#user-menu summary").click();
  await page.getByRole("menuitem", { name: "Log out" }).click();
  await expect(page).toHaveURL(/\/admin\/login\?logged_out=1/);
  await expect(page.getByRole("status")).toHaveText("You have been logged out.");
  await page.goto("/admin");
  await expect(page).toHaveURL(/\/admin\/login/);
});

test.describe("without JavaScript", () => {
  test.use({ javaScriptEnabled: false });

  test("login, dashboard and logout still work", async ({ page }) => {
    await logIn(page);
    await expect(page.getByRole("heading", { name: "Dashboard" })).toBeVisible();
    await page.locator("#user-menu summary").click();
    await page.getByRole("menuitem", { name: "Log out" }).click();
    await expect(page.getByRole("status")).toHaveText("You have been logged out.");
  });
});

test.describe("a server without signing keys", () => {
  test.use({ baseURL: `http://127.0.0.1:${WITHOUT_KEYS.port}` });

  test("shows the missing-keys warning on the dashboard", async ({ page }) => {
    await logIn(page);
    await expect(page.getByRole("heading", { name: "Dashboard" })).toBeVisible();
    await expect(page.getByText(MISSING_KEYS_WARNING, { exact: true })).toBeVisible();
    await screenshot(page, "dashboard-missing-keys");
    // …and on every applications page.
    for (const path of ["/admin/my-user", "/admin/system/oauth-applications", "/admin/customers/oauth-applications"]) {
      await page.goto(path);
      await expect(page.getByText(MISSING_KEYS_WARNING, { exact: true })).toBeVisible();
    }
  });

  test("answers no_encryption_key at the token endpoint", async ({ request }) => {
    const response = await request.post("/oauth2-token", {
      form: { grant_type: "client_credentials", client_id: "any", client_secret: "any" },
    });
    expect(response.status()).toBe(401);
    expect((await response.json()).error).toBe("no_encryption_key");
  });
});
