import { test, expect } from "@playwright/test";
import { hydrated } from "./helpers";

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
    const file = served.find((s) => new URL(s.url).pathname.endsWith(kind));
    expect(file, `the page loads its ${kind} file`).toBeDefined();
    // postern.<hash>.wasm: a new build has a new name.
    expect(new URL(file!.url).pathname).toMatch(new RegExp(`^/pkg/postern\\.[A-Za-z0-9_-]{8,}\\${kind}$`));
    expect(file!.cache).toBe("public, max-age=31536000, immutable");
    expect(file!.encoding, `${kind} sent compressed`).toMatch(/^(br|gzip)$/);
  }

  // Asked for gzip only, the same file comes gzipped; asked for nothing, as it is.
  const wasm = served.find((s) => s.url.endsWith(".wasm"))!.url;
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
