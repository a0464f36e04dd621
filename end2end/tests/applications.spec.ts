import { test, expect } from "@playwright/test";
import { hydrated, logIn, screenshot } from "./helpers";

test("an admin creates an application on My User, copies the secret and uses it", async ({ page, context, request }) => {
  await context.grantPermissions(["clipboard-read", "clipboard-write"]);
  await logIn(page);
  await hydrated(page);
  await page.locator("#user-menu summary").click();
  await page.getByRole("menuitem", { name: "My User" }).click();
  await expect(page.getByRole("heading", { name: "My User" })).toBeVisible();
  await hydrated(page);

  await page.getByRole("button", { name: "Add Application" }).click();
  const dialog = page.getByRole("dialog");
  await expect(dialog).toBeVisible();
  await dialog.getByRole("button", { name: "Create" }).click();
  await expect(dialog.getByText("The application name must not be empty.")).toBeVisible();

  await dialog.getByLabel("Application Name").fill("Warehouse sync");
  await screenshot(page, "create-dialog");
  await dialog.getByRole("button", { name: "Create" }).click();
  await expect(dialog.getByText("will not be shown again")).toBeVisible();
  const clientId = (await dialog.locator("#new-client-id").textContent())!.trim();
  const secret = (await dialog.locator("#new-client-secret").textContent())!.trim();
  expect(clientId).toHaveLength(32);
  await dialog.locator("#new-client-secret").locator("..").getByRole("button", { name: "Copy" }).click();
  expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(secret);
  await screenshot(page, "create-dialog-credentials");
  await dialog.getByRole("button", { name: "Close" }).click();
  await expect(page.getByRole("dialog")).toHaveCount(0);
  await expect(page.locator("#my-applications")).toContainText("Warehouse sync");
  await expect(page.locator("#my-applications")).not.toContainText(secret);
  await screenshot(page, "my-user");

  const token = await request.post("/oauth2-token", {
    form: { grant_type: "client_credentials", client_id: clientId, client_secret: secret },
  });
  expect(token.status()).toBe(200);
});
