import { test, expect } from "@playwright/test";
import * as crypto from "crypto";
import * as fs from "fs";
import * as path from "path";
import { WITH_KEYS } from "../playwright.config";
import { createApp } from "./helpers";

/** Verifies an RS256 JWT with nothing but the public key file. */
function verifyJwt(token: string): { header: any; claims: any } {
  const [h, p, s] = token.split(".");
  const publicKey = fs.readFileSync(path.join(WITH_KEYS.dir, "oauth_public.key"));
  const ok = crypto.verify("sha256", Buffer.from(`${h}.${p}`), publicKey, Buffer.from(s, "base64url"));
  expect(ok, "signature verifies with oauth_public.key").toBe(true);
  return {
    header: JSON.parse(Buffer.from(h, "base64url").toString()),
    claims: JSON.parse(Buffer.from(p, "base64url").toString()),
  };
}

test("client_credentials with form and JSON bodies, then the API", async ({ request }) => {
  const app = createApp("E2E reporting");
  expect(app.client_id).toHaveLength(32);

  const form = await request.post("/oauth2-token", {
    form: { grant_type: "client_credentials", client_id: app.client_id, client_secret: app.client_secret },
  });
  expect(form.status()).toBe(200);
  expect(form.headers()["cache-control"]).toBe("no-store");
  const formBody = await form.json();
  expect(formBody.token_type).toBe("Bearer");
  expect(formBody.expires_in).toBe(3600);
  const { header, claims } = verifyJwt(formBody.access_token);
  expect(header.alg).toBe("RS256");
  expect(header.typ).toBe("at+jwt");
  expect(header.kid).toBeTruthy();
  expect(claims.client_id).toBe(app.client_id);

  const json = await request.post("/oauth2-token", {
    data: { grant_type: "client_credentials", client_id: app.client_id, client_secret: app.client_secret },
  });
  expect(json.status()).toBe(200);
  const jsonToken = (await json.json()).access_token;
  verifyJwt(jsonToken);

  const users = await request.get("/api/users", { headers: { Authorization: `Bearer ${jsonToken}` } });
  expect(users.status()).toBe(200);
  expect(users.headers()["content-type"]).toBe("application/vnd.api+json");
  const names = (await users.json()).data.map((u: any) => u.attributes.username);
  expect(names).toContain("admin");

  const wrong = await request.post("/oauth2-token", {
    form: { grant_type: "client_credentials", client_id: app.client_id, client_secret: "wrong" },
  });
  expect(wrong.status()).toBe(401);
  expect((await wrong.json()).error).toBe("invalid_client");

  const anonymous = await request.get("/api/users");
  expect(anonymous.status()).toBe(401);
  expect(anonymous.headers()["www-authenticate"]).toContain("Bearer");
});
