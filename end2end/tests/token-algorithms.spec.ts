import { test, expect } from "@playwright/test";
import { WITH_KEYS } from "../playwright.config";
import { clientCredentialsToken, createApp, postern } from "./helpers";

// ES256 and EdDSA signing keys (`keys rotate --alg`) as a resource server
// outside the repository sees their tokens: oauth4webapi (panva) validates
// them as RFC 9068 says, from the issuer's metadata and JWKS alone.

const oauth = () => import("oauth4webapi");
const BASE = `http://127.0.0.1:${WITH_KEYS.port}`;

function algOf(token: string): string {
  return JSON.parse(Buffer.from(token.split(".")[0], "base64url").toString()).alg;
}

test("ES256 and EdDSA access tokens verify in oauth4webapi and the API takes them", async ({ request }) => {
  const o = await oauth();
  const issuer = new URL(`${BASE}/admin`);
  const discovered = await o.processDiscoveryResponse(
    issuer,
    await o.discoveryRequest(issuer, { algorithm: "oauth2", [o.allowInsecureRequests]: true }),
  );
  const app = createApp("E2E algorithms");
  const token = () => clientCredentialsToken(request, app);
  try {
    for (const alg of ["ES256", "EdDSA"]) {
      expect(postern(["keys", "rotate", "--alg", alg])).toContain(`It signs with ${alg}.`);
      // The server notices within its key reload interval (5 s).
      await expect.poll(async () => algOf(await token()), { timeout: 20_000, intervals: [500] }).toBe(alg);
      const access = await token();
      // A fresh copy of the metadata: oauth4webapi keeps one JWKS per object.
      const as = { ...discovered };
      const claims = await o.validateJwtAccessToken(
        as,
        new Request(`${BASE}/api/users`, { headers: { authorization: `Bearer ${access}` } }),
        `${BASE}/api`,
        { [o.allowInsecureRequests]: true },
      );
      expect(claims.client_id).toBe(app.client_id);
      expect(claims.iss).toBe(`${BASE}/admin`);
      const jwks = await (await request.get("/.well-known/jwks.json")).json();
      expect(jwks.keys[0]).toMatchObject({ alg, kty: alg === "ES256" ? "EC" : "OKP" });
      const api = await request.get("/api/users", { headers: { Authorization: `Bearer ${access}` } });
      expect(api.status(), `${alg} token at the API`).toBe(200);
      // Metadata names the algorithm that signs now.
      const oidc = await (await request.get("/admin/.well-known/openid-configuration")).json();
      expect(oidc.id_token_signing_alg_values_supported).toEqual([alg]);
    }
  } finally {
    // The suite's other tests expect RS256, as relying parties do by default,
    // and the key in oauth_public.key: wait until the server signs with it.
    postern(["keys", "rotate", "--alg", "RS256"]);
    await expect.poll(async () => algOf(await token()), { timeout: 20_000, intervals: [500] }).toBe("RS256");
  }
});
