-- The full authorization-code exchange (wrk, one connection per thread):
-- GET the authorization endpoint as a signed-in user of a skip-consent app
-- (303 to the callback with a code), then POST that code to the token
-- endpoint. Two requests per exchange. Settings from the environment.
local authorize = os.getenv("BENCH_AUTHORIZE_PATH")
local cookie = os.getenv("BENCH_COOKIE")
local token_body = "grant_type=authorization_code&redirect_uri=" .. os.getenv("BENCH_REDIRECT_ENCODED")
  .. "&client_id=" .. os.getenv("BENCH_CLIENT_ID") .. "&client_secret=" .. os.getenv("BENCH_CLIENT_SECRET") .. "&code="
local code = nil

request = function()
  if code then
    local body = token_body .. code
    code = nil
    return wrk.format("POST", "/oauth2-token", { ["Content-Type"] = "application/x-www-form-urlencoded" }, body)
  end
  return wrk.format("GET", authorize, { ["Cookie"] = cookie })
end

response = function(status, headers, body)
  local location = headers["Location"] or headers["location"]
  if status == 303 and location then
    code = location:match("[?&]code=([^&]+)")
  end
end
