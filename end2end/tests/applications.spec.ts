import { test, expect, Page, APIRequestContext } from "@playwright/test";
import { hydrated, logIn, screenshot } from "./helpers";
import { WITH_KEYS } from "../playwright.config";

// One administrator's afternoon, in order: each step builds on the last.
test.describe.configure({ mode: "serial" });

const created: Record<string, { clientId: string; secret: string }> = {};

async function openNav(page: Page, name: string) {
  // On a phone width the sidebar is a drawer; at 1280 px it is always there.
  await page.getByRole("complementary", { name: "Main navigation" }).getByRole("link", { name, exact: true }).click();
  await hydrated(page);
}

/** Fills and submits the Add Application dialog, reads the credentials, closes it. */
async function addApplication(page: Page, name: string, options: { organization?: string; owner?: string } = {}) {
  await page.getByRole("button", { name: "Add Application" }).click();
  const dialog = page.getByRole("dialog");
  await expect(dialog).toBeVisible();
  if (options.organization) await dialog.getByLabel("Organization").selectOption({ label: options.organization });
  if (options.owner) await dialog.getByLabel(/Owner|Customer user/).selectOption({ label: options.owner });
  await dialog.getByLabel("Application Name").fill(name);
  await dialog.getByRole("button", { name: "Create" }).click();
  await expect(dialog.getByText("will not be shown again")).toBeVisible();
  const clientId = (await dialog.locator("#new-client-id").textContent())!.trim();
  const secret = (await dialog.locator("#new-client-secret").textContent())!.trim();
  created[name] = { clientId, secret };
  return dialog;
}

async function token(request: APIRequestContext, name: string) {
  const { clientId, secret } = created[name];
  return request.post("/oauth2-token", { form: { grant_type: "client_credentials", client_id: clientId, client_secret: secret } });
}

async function rowAction(page: Page, app: string, action: string) {
  await page.getByLabel(`Actions for ${app}`).click();
  await page.getByRole("menuitem", { name: action, exact: true }).click();
  // The dialog is about that row, not another one.
  await expect(page.getByRole("dialog")).toContainText(`"${app}"`);
}

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
  await expect(dialog.getByLabel("Application Name")).toBeFocused();
  await dialog.getByRole("button", { name: "Create" }).click();
  await expect(dialog.getByText("The application name must not be empty.")).toBeVisible();
  await dialog.getByLabel("Application Name").fill("Warehouse sync");
  await screenshot(page, "create-dialog");
  await dialog.getByRole("button", { name: "Create" }).click();
  await expect(dialog.getByText("will not be shown again")).toBeVisible();
  const clientId = (await dialog.locator("#new-client-id").textContent())!.trim();
  const secret = (await dialog.locator("#new-client-secret").textContent())!.trim();
  created["Warehouse sync"] = { clientId, secret };
  expect(clientId).toHaveLength(32);
  await dialog.locator("#new-client-secret").locator("..").getByRole("button", { name: "Copy" }).click();
  expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(secret);
  await screenshot(page, "create-dialog-credentials");
  await dialog.getByRole("button", { name: "Close" }).click();
  await expect(page.getByRole("dialog")).toHaveCount(0);
  await expect(page.locator("#my-applications")).toContainText("Warehouse sync");
  await expect(page.locator("#my-applications")).not.toContainText(secret);
  await screenshot(page, "my-user");

  expect((await token(request, "Warehouse sync")).status()).toBe(200);
});

test("filters, deactivate, activate, edit and delete from the grid", async ({ page, request }) => {
  test.setTimeout(120_000);
  await logIn(page);
  await hydrated(page);

  // A second organization makes the Organization field and filter appear.
  await openNav(page, "Organizations");
  await page.getByRole("button", { name: "Create Organization" }).click();
  await page.getByRole("dialog").getByLabel("Name").fill("Acme Corp");
  await page.getByRole("dialog").getByRole("button", { name: "Create" }).click();
  await expect(page.locator("#organizations")).toContainText("Acme Corp");

  await openNav(page, "My User");
  let dialog = await addApplication(page, "Acme billing", { organization: "Acme Corp" });
  await dialog.getByRole("button", { name: "Close" }).click();
  dialog = await addApplication(page, "Default reports", { organization: "Default" });
  await dialog.getByRole("button", { name: "Close" }).click();
  const grid = page.locator("#my-applications");
  await expect(grid).toContainText("Acme billing");
  const access = (await (await token(request, "Acme billing")).json()).access_token as string;
  const api = () => request.get("/api/users", { headers: { Authorization: `Bearer ${access}` } });
  expect((await api()).status()).toBe(200);

  // Filters: name, organization, status.
  await page.getByLabel("Name", { exact: true }).fill("ACME");
  await expect(grid.locator("tbody tr")).toHaveCount(1);
  await expect(grid).toContainText("Acme billing");
  await page.getByLabel("Name", { exact: true }).fill("");
  await expect(grid.locator("tbody tr")).toHaveCount(3);
  await page.getByLabel("Organization", { exact: true }).selectOption({ label: "Default" });
  await expect(grid.locator("tbody tr")).toHaveCount(2);
  await expect(grid).not.toContainText("Acme billing");
  await page.getByLabel("Organization", { exact: true }).selectOption({ label: "All organizations" });
  await expect(grid.locator("tbody tr")).toHaveCount(3);

  // Sorting by name, descending.
  await grid.getByRole("button", { name: "Name" }).click();
  await expect(grid.locator("th", { hasText: "Name" })).toHaveAttribute("aria-sort", "descending");
  await expect(grid.locator("tbody tr").first()).toContainText("Warehouse sync");
  await expect(grid.locator("tbody tr").last()).toContainText("Acme billing");

  // Deactivate: the token request and the existing token are refused at once.
  await rowAction(page, "Acme billing", "Deactivate");
  await expect(page.getByRole("dialog")).toContainText("refused at once");
  await page.getByRole("dialog").getByRole("button", { name: "Deactivate" }).click();
  await expect(page.getByRole("dialog")).toHaveCount(0);
  await expect(grid.locator("tr", { hasText: "Acme billing" })).toContainText("Inactive");
  const refused = await token(request, "Acme billing");
  expect(refused.status()).toBe(401);
  expect((await refused.json()).error).toBe("invalid_client");
  expect((await api()).status()).toBe(401);
  await page.getByLabel("Status").selectOption("inactive");
  await expect(grid.locator("tbody tr")).toHaveCount(1);
  await page.getByLabel("Status").selectOption("");

  // Activate again.
  await rowAction(page, "Acme billing", "Activate");
  await page.getByRole("dialog").getByRole("button", { name: "Activate" }).click();
  await expect(grid.locator("tr", { hasText: "Acme billing" })).not.toContainText("Inactive");
  expect((await api()).status()).toBe(200);

  // Edit: a taken name is refused beside the field, then a new name is saved.
  await rowAction(page, "Acme billing", "Edit");
  dialog = page.getByRole("dialog");
  await expect(dialog.getByLabel("Application Name")).toHaveValue("Acme billing");
  await dialog.getByLabel("Application Name").fill("");
  await dialog.getByRole("button", { name: "Save" }).click();
  await expect(dialog.getByText("The application name must not be empty.")).toBeVisible();
  await dialog.getByLabel("Application Name").fill("Acme invoicing");
  await dialog.getByRole("button", { name: "Save" }).click();
  await expect(page.getByRole("dialog")).toHaveCount(0);
  await expect(grid).toContainText("Acme invoicing");
  created["Acme invoicing"] = created["Acme billing"];

  // Delete: gone from the grid, its tokens and credentials refused.
  await rowAction(page, "Acme invoicing", "Delete");
  await page.getByRole("dialog").getByRole("button", { name: "Delete" }).click();
  await expect(page.getByRole("dialog")).toHaveCount(0);
  await expect(grid).not.toContainText("Acme invoicing");
  expect((await api()).status()).toBe(401);
  expect((await token(request, "Acme invoicing")).status()).toBe(401);

  await openNav(page, "OAuth Applications");
  await expect(page.locator("#backoffice-applications")).toContainText("Warehouse sync");
  await screenshot(page, "grid-system-oauth-applications");
});

test("a user without the create permission sees no button and is refused", async ({ page, browser }) => {
  test.setTimeout(90_000);
  await logIn(page);
  await hydrated(page);
  await openNav(page, "Users");
  await page.getByRole("button", { name: "Create User" }).click();
  const dialog = page.getByRole("dialog");
  await dialog.getByLabel("User name").fill("viewer1");
  await dialog.getByLabel("Primary email").fill("viewer1@example.com");
  await dialog.getByLabel("Password").fill("short");
  await dialog.getByLabel("Role").selectOption({ label: "Viewer" });
  await dialog.getByLabel("Default").check();
  await dialog.getByRole("button", { name: "Save" }).click();
  await expect(dialog.getByText("The password must be at least 8 characters.")).toBeVisible();
  await dialog.getByLabel("Password").fill("viewer-password-1");
  await dialog.getByRole("button", { name: "Save" }).click();
  await expect(page.getByRole("dialog")).toHaveCount(0);
  await expect(page.locator("#users")).toContainText("viewer1");
  await screenshot(page, "users");
  await openNav(page, "Roles");
  await expect(page.locator("#roles")).toContainText("Viewer");
  await screenshot(page, "roles");

  const context = await browser.newContext({ baseURL: `http://127.0.0.1:${WITH_KEYS.port}` });
  const viewer = await context.newPage();
  await logIn(viewer, "viewer-password-1", "viewer1");
  await hydrated(viewer);
  await openNav(viewer, "OAuth Applications");
  await expect(viewer.locator("#backoffice-applications")).toContainText("Warehouse sync");
  await expect(viewer.getByRole("button", { name: "Add Application" })).toHaveCount(0);
  await expect(viewer.getByLabel(/^Actions for /)).toHaveCount(0);
  await expect(viewer.getByRole("link", { name: "Users", exact: true })).toHaveCount(0);

  // Calling the server function directly, with a valid session and CSRF token.
  // The token the page's forms carry (bound to the session; not the cookie itself).
  const csrf = await viewer.locator('form[action="/admin/logout"] input[name="csrf_token"]').inputValue();
  const direct = await viewer.request.post("/admin/rpc/create_application", {
    headers: { "Content-Type": "application/json" },
    data: {
      form: {
        csrf_token: csrf, scope: "BackOffice", organization_id: null, owner_id: null, name: "Sneaky", active: true,
        grant_type: "client_credentials", redirect_uris: "", confidential: true, skip_consent: false,
      },
    },
  });
  expect(direct.status()).toBe(403);
  expect(await direct.text()).toContain("Forbidden");
  await context.close();

  await page.reload();
  await openNav(page, "OAuth Applications");
  await expect(page.locator("#backoffice-applications")).not.toContainText("Sneaky");
});

test("storefront: a customer user owns a storefront application", async ({ page, request }) => {
  test.setTimeout(90_000);
  await logIn(page);
  await hydrated(page);
  await openNav(page, "Customer Users");
  await page.getByRole("button", { name: "Create Customer User" }).click();
  let dialog = page.getByRole("dialog");
  await dialog.getByLabel("Organization").selectOption({ label: "Default" });
  await dialog.getByLabel("User name").fill("shopper1");
  await dialog.getByLabel("Email").fill("shopper1@example.com");
  await dialog.getByLabel("Password").fill("shopper-password-1");
  await dialog.getByRole("button", { name: "Create" }).click();
  await expect(page.getByRole("dialog")).toHaveCount(0);
  await expect(page.locator("#customer-users")).toContainText("shopper1");

  await openNav(page, "Storefront OAuth Applications");
  dialog = await addApplication(page, "Shop integration", { organization: "Default", owner: "shopper1" });
  await dialog.getByRole("button", { name: "Close" }).click();
  await expect(page.locator("#storefront-applications")).toContainText("shopper1");
  await screenshot(page, "grid-storefront-oauth-applications");
  const response = await token(request, "Shop integration");
  expect(response.status()).toBe(200);
});

test("the creation email is in the outbox, without the secret", async ({ page }) => {
  await logIn(page);
  await hydrated(page);
  await openNav(page, "Configuration");
  await expect(page.locator("#email-delivery")).toContainText("No SMTP server is configured");
  await screenshot(page, "configuration");
  await openNav(page, "Email Outbox");
  const outbox = page.locator("#outbox");
  const mail = outbox.locator("li", { hasText: created["Warehouse sync"].clientId });
  await expect(mail).toContainText("OAuth application added to your account");
  await expect(mail).toContainText("Warehouse sync");
  await expect(mail).toContainText("admin@example.com");
  for (const { secret } of Object.values(created)) {
    await expect(outbox).not.toContainText(secret);
  }
  await screenshot(page, "outbox");
});

test("on a phone: the drawer, the grid and a keyboard-closable dialog", async ({ page }) => {
  await page.setViewportSize({ width: 390, height: 844 });
  await logIn(page);
  await hydrated(page);
  await page.getByRole("button", { name: "Open navigation" }).click();
  await openNav(page, "My User");
  const grid = page.locator("#my-applications");
  await expect(grid).toContainText("Warehouse sync");
  // Only what fits: name, status and the actions; no sideways scrolling.
  await expect(grid.getByRole("button", { name: "Client ID" })).toBeHidden();
  expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);
  await screenshot(page, "my-user-phone");
  await page.getByRole("button", { name: "Add Application" }).click();
  // The first field (here Organization: the admin has two) has the focus.
  await expect(page.getByRole("dialog").getByLabel("Organization")).toBeFocused();
  await screenshot(page, "create-dialog-phone");
  await page.keyboard.press("Escape");
  await expect(page.getByRole("dialog")).toHaveCount(0);
});
