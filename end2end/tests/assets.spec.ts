import { test, expect } from "@playwright/test";
import { hydrated, logIn } from "./helpers";

// The back office's built files as the release build serves them: named
// after their content, compressed, kept by browsers for good.

test("the login page loads hashed, compressed files a browser may keep for good", async ({ page, request }) => {
  const served: { url: string; encoding?: string; cache?: string }[] = [];
  page.on("response", (response) => {
    if (new URL(response.url()).pathname.startsWith("/pkg/")) {
      const headers = response.headers();
      served.push({ url: response.url(), encoding: headers["content-encoding"], cache: headers["cache-control"] });
    }
  });
  await page.goto("/admin/login");
  await hydrated(page);

  for (const kind of [".wasm", ".js", ".css"]) {
    // postern.<hash>.wasm: a new build has a new name.
    const name = new RegExp(`^/pkg/postern\\.[A-Za-z0-9_-]{8,}\\${kind}$`);
    const file = served.find((s) => name.test(new URL(s.url).pathname));
    expect(file, `the page loads its ${kind} file`).toBeDefined();
  }
  // The sign-in page is all in the main WASM: interactive without waiting for chunks.
  const isChunk = (url: string) => /^\/pkg\/(chunk_\d+|split_\w+)\.[A-Za-z0-9_-]{8,}\.wasm$/.test(new URL(url).pathname);
  expect(served.filter((s) => isChunk(s.url)), "chunks loaded by the sign-in page").toEqual([]);

  // A back-office page's own code comes as WASM chunks of the split build
  // (chunk_7.<hash>.wasm, split___<page>_view_<n>.<hash>.wasm), with their loader.
  await logIn(page);
  await expect(page).toHaveURL(/\/admin\/?$/);
  await page.goto("/admin/system/audit-log");
  await hydrated(page);
  await expect(page.getByRole("heading", { name: "Audit Log" })).toBeVisible();
  expect(served.filter((s) => isChunk(s.url)).length, "the audit log page's chunks").toBeGreaterThan(0);
  // Every built file the pages loaded, chunks included: kept for good, sent compressed.
  for (const file of served) {
    expect(file.cache, file.url).toBe("public, max-age=31536000, immutable");
    expect(file.encoding, `${file.url} sent compressed`).toMatch(/^(br|gzip)$/);
  }

  // Asked for gzip only, the same file comes gzipped; asked for nothing, as it is.
  const wasm = served.find((s) => /\/pkg\/postern\.[^/]+\.wasm$/.test(s.url))!.url;
  const gzip = await request.get(wasm, { headers: { "accept-encoding": "gzip" } });
  expect(gzip.headers()["content-encoding"]).toBe("gzip");
  expect(gzip.headers()["vary"]).toContain("accept-encoding");
  const plain = await request.get(wasm, { headers: { "accept-encoding": "identity" } });
  expect(plain.headers()["content-encoding"]).toBeUndefined();
  expect((await plain.body()).subarray(0, 4)).toEqual(Buffer.from([0x00, 0x61, 0x73, 0x6d]));

  // A name that is not this build's is not cached for good.
  const favicon = await request.get("/favicon.svg");
  expect(favicon.headers()["cache-control"]).toBe("public, max-age=86400");
});

test("pages rendered outside the app use the same stylesheet", async ({ page, request }) => {
  await page.goto("/admin/login");
  const appSheet = await page.locator('link[rel="stylesheet"]').getAttribute("href");
  // A consent request that cannot be served: Postern's own error page.
  const error = await request.get("/admin/oauth2-token/authorize?client_id=nobody&response_type=code");
  expect(error.status()).toBe(400);
  const html = await error.text();
  expect(html).toContain(`<link rel="stylesheet" href="${appSheet}">`);
  expect((await request.get(appSheet!)).status()).toBe(200);
});
