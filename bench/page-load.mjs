// The back office's first load in headless Chromium (Debian's), for
// bench/run: what the login page's WASM, script and stylesheet cost on the
// wire, and when the page is interactive (the app marks <body
// data-hydrated> once the WASM has taken over). Then the same page again
// in the same browser: what its cache saves.
//
//   node bench/page-load.mjs http://127.0.0.1:3411/admin/login
// prints one JSON object.
import { createRequire } from "node:module";

const require = createRequire(new URL("../end2end/package.json", import.meta.url));
const { chromium } = require("playwright");

const url = process.argv[2];
const browser = await chromium.launch({ executablePath: "/usr/bin/chromium", args: ["--no-sandbox"] });
const context = await browser.newContext();
// Records the moment the app marks the page hydrated, in the page's own clock.
await context.addInitScript(() => {
  new MutationObserver((_, observer) => {
    if (document.body?.dataset.hydrated === "true") {
      window.__interactive = performance.now();
      observer.disconnect();
    }
  }).observe(document, { subtree: true, attributes: true, attributeFilter: ["data-hydrated"] });
});

async function visit() {
  const page = await context.newPage();
  await page.goto(url, { waitUntil: "load" });
  await page.waitForFunction(() => window.__interactive !== undefined, null, { timeout: 30000 });
  const figures = await page.evaluate(() => {
    const kinds = { wasm: /\.wasm$/, js: /\.js$/, css: /\.css$/ };
    const out = { interactive_ms: Math.round(window.__interactive) };
    for (const [kind, pattern] of Object.entries(kinds)) {
      const entries = performance.getEntriesByType("resource").filter((e) => pattern.test(new URL(e.name).pathname));
      out[`${kind}_transferred`] = entries.reduce((n, e) => n + e.transferSize, 0);
      out[`${kind}_decoded`] = entries.reduce((n, e) => n + e.decodedBodySize, 0);
    }
    return out;
  });
  await page.close();
  return figures;
}

const first = await visit();
const again = await visit();
await browser.close();
console.log(JSON.stringify({ first, again }));
