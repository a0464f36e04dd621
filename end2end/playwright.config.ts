import { defineConfig } from "@playwright/test";
import * as os from "os";
import * as path from "path";

// Two real release binaries, each with its own fresh SQLite database:
// one with signing keys, one without (to see the missing-keys warning).
export const ROOT = path.resolve(__dirname, "..");
export const WORK = process.env.POSTERN_E2E_DIR ?? path.join(os.tmpdir(), "postern-e2e");
export const ADMIN_PASSWORD = "e2e-admin-password";
export const WITH_KEYS = { port: 3111, dir: path.join(WORK, "with-keys") };
export const WITHOUT_KEYS = { port: 3112, dir: path.join(WORK, "without-keys") };

function server(s: { port: number; dir: string }, keys: boolean) {
  const start = keys ? `target/release/postern keys generate >/dev/null && ` : "";
  return {
    command: `rm -rf "${s.dir}" && mkdir -p "${s.dir}" && ${start}exec target/release/postern serve`,
    cwd: ROOT,
    url: `http://127.0.0.1:${s.port}/healthz`,
    reuseExistingServer: false,
    timeout: 60_000,
    stdout: "pipe" as const,
    env: {
      LEPTOS_SITE_ADDR: `127.0.0.1:${s.port}`,
      POSTERN_DATABASE_URL: `sqlite://${s.dir}/postern.db`,
      POSTERN_PRIVATE_KEY: `${s.dir}/oauth_private.key`,
      POSTERN_PUBLIC_KEY: `${s.dir}/oauth_public.key`,
      POSTERN_ADMIN_PASSWORD: ADMIN_PASSWORD,
      POSTERN_LOG: "info,sqlx=warn",
    },
  };
}

export default defineConfig({
  testDir: "./tests",
  timeout: 30_000,
  expect: { timeout: 10_000 },
  fullyParallel: false,
  workers: 1,
  forbidOnly: !!process.env.CI,
  retries: 0,
  reporter: [["list"]],
  outputDir: "test-results",
  use: {
    baseURL: `http://127.0.0.1:${WITH_KEYS.port}`,
    trace: "retain-on-failure",
    actionTimeout: 10_000,
    screenshot: "only-on-failure",
    launchOptions: {
      executablePath: "/usr/bin/chromium",
      args: [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
      ],
    },
  },
  projects: [{ name: "chromium", use: { browserName: "chromium" } }],
  webServer: [server(WITH_KEYS, true), server(WITHOUT_KEYS, false)],
});
