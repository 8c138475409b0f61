import { describe, expect, it } from "vitest";
import { fieldOf, fromBody, retrySeconds, toUserError } from "./errors";
import { resolveApiUrl } from "./config";

describe("API errors as a person reads them", () => {
  it("reads PostgREST's shape with the hint and the page that fixes it", () => {
    const e = fromBody(402, {
      code: "agent_limit_reached",
      message: "You have 2 of 2 agents on the Free plan",
      details: null,
      hint: "Upgrade to Pro for 10 agents",
    });
    expect(e.code).toBe("agent_limit_reached");
    expect(e.message).toBe("You have 2 of 2 agents on the Free plan");
    expect(e.hint).toBe("Upgrade to Pro for 10 agents");
    expect(e.fixPath).toBe("/plans");
  });

  it("reads GoTrue's shape", () => {
    const e = fromBody(422, { code: 422, error_code: "user_already_exists", msg: "User exists" });
    expect(e.code).toBe("user_already_exists");
    expect(e.message).toBe("User exists");
  });

  it("never shows a raw SQLSTATE or a blank message", () => {
    const e = fromBody(500, { code: "XX000", message: "internal error at line 3" });
    expect(e.code).toBe("http_500");
    expect(e.message).toMatch(/Something went wrong on our side/);
    expect(fromBody(502, "<html>").message).toMatch(/provider/);
    expect(toUserError(new TypeError("Failed to fetch")).message).toMatch(/Could not reach/);
  });

  it("links a missing key to the keys page instead of an API caller's hint", () => {
    const e = fromBody(400, {
      code: "provider_key_missing",
      message: "Add your Groq API key first",
      hint: "Save it with PUT /functions/v1/api-keys/groq and a JSON body with api_key",
    });
    expect(e.fixPath).toBe("/keys");
    expect(e.hint).toBeUndefined();
  });

  it("places an error on the field it concerns", () => {
    const fields = ["email", "password", "organization"] as const;
    expect(fieldOf(fromBody(422, { error_code: "user_already_exists", msg: "x" }), fields)).toBe(
      "email",
    );
    expect(fieldOf(fromBody(422, { error_code: "weak_password", msg: "x" }), fields)).toBe(
      "password",
    );
    expect(
      fieldOf(
        fromBody(400, { error_code: "validation_failed", msg: "Enter your organization name" }),
        fields,
      ),
    ).toBe("organization");
    expect(
      fieldOf(fromBody(400, { code: "invalid_agent", message: "bad", details: "temperature" }), [
        "name",
        "temperature",
      ]),
    ).toBe("temperature");
    expect(fieldOf(fromBody(500, {}), fields)).toBeNull();
  });

  it("sends a paused agent to the agents page, not to an rpc", () => {
    const e = fromBody(409, {
      code: "agent_suspended",
      message: "This agent is paused",
      hint: "Choose it with rpc/set_active_agents",
    });
    expect(e.fixPath).toBe("/agents");
    expect(e.hint).toBeUndefined();
  });

  it("says a rate limit's hint for people", () => {
    const e = fromBody(429, {
      code: "rate_limited",
      message: "Too many requests for your plan",
      hint: "Retry after the seconds in Retry-After, or upgrade your plan.",
    });
    expect(e.hint).toMatch(/Wait a minute and try again/);
  });

  it("knows how long to wait", () => {
    expect(retrySeconds(fromBody(429, { msg: "Too many failed sign-ins; try again in 42 seconds" }))).toBe(42);
    expect(retrySeconds(fromBody(429, {}, "17"))).toBe(17);
    expect(retrySeconds(fromBody(400, { msg: "nope" }))).toBeNull();
  });
});

describe("runtime configuration", () => {
  it("takes the page's own origin when apiUrl is empty or relative", () => {
    expect(resolveApiUrl("", "http://127.0.0.1:54321")).toBe("http://127.0.0.1:54321");
    expect(resolveApiUrl("https://api.example.com/", "http://x")).toBe("https://api.example.com");
  });
});
