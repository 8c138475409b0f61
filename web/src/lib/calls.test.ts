import { describe, expect, it } from "vitest";
import { formatRate, isFinal, isLive, phoneCost, phoneRate, statusLabel, type CallRow } from "./calls";

const prices = [
  { model: "outbound", usd_per_unit: 0.014, effective_from: "2025-01-01T00:00:00Z", effective_to: "2026-12-01T00:00:00Z" },
  { model: "outbound", usd_per_unit: 0.02, effective_from: "2026-12-01T00:00:00Z", effective_to: null },
  { model: "inbound", usd_per_unit: 0.0085, effective_from: "2025-01-01T00:00:00Z", effective_to: null },
];

function call(fields: Partial<CallRow>): CallRow {
  return {
    id: 1,
    agent_id: 1,
    direction: "outbound",
    from_number: "+14155550100",
    to_number: "+14155550142",
    status: "completed",
    started_at: "2026-11-20T10:00:00Z",
    ended_at: "2026-11-20T10:01:35Z",
    duration_seconds: 95,
    created_at: "2026-11-20T09:59:50Z",
    agent: { name: "Front desk" },
    ...fields,
  };
}

describe("a call's phone cost", () => {
  it("is seconds / 60 at the rate in force when it ended, by direction", () => {
    expect(phoneRate(call({}), prices)).toBe(0.014);
    expect(phoneCost(call({}), prices)).toBeCloseTo((95 / 60) * 0.014, 10);
    expect(phoneRate(call({ ended_at: "2026-12-02T00:00:00Z" }), prices)).toBe(0.02);
    expect(phoneRate(call({ direction: "inbound" }), prices)).toBe(0.0085);
  });
  it("is unknown until the call ends, and nothing for a call never answered", () => {
    expect(phoneCost(call({ status: "in-progress", duration_seconds: null }), prices)).toBeNull();
    expect(phoneCost(call({ status: "no-answer", duration_seconds: null }), prices)).toBe(0);
    expect(phoneCost(call({}), undefined)).toBeNull();
  });
});

describe("which calls are polled", () => {
  const at = (iso: string) => new Date(iso).getTime();
  it("a call not yet final, while it could still be on the line", () => {
    const ringing = call({ status: "ringing", created_at: "2026-11-20T10:00:00Z" });
    expect(isLive(ringing, at("2026-11-20T10:00:30Z"))).toBe(true);
    expect(isLive(ringing, at("2026-11-20T14:30:00Z"))).toBe(true);
  });
  it("not a finished call, nor one whose last status never came", () => {
    expect(isLive(call({ created_at: "2026-11-20T10:00:00Z" }), at("2026-11-20T10:00:30Z"))).toBe(false);
    const stuck = call({ status: "queued", created_at: "2026-11-20T10:00:00Z" });
    expect(isLive(stuck, at("2026-11-20T15:00:01Z"))).toBe(false);
  });
});

describe("call labels", () => {
  it("reads statuses and rates as a person would", () => {
    expect(statusLabel("no-answer")).toBe("No answer");
    expect(statusLabel("in-progress")).toBe("In progress");
    expect(isFinal("completed") && !isFinal("ringing")).toBe(true);
    expect(formatRate(0.014)).toBe("$0.014");
    expect(formatRate(0.0085)).toBe("$0.0085");
  });
});
