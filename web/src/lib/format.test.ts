import { describe, expect, it } from "vitest";
import {
  daysOfPeriod,
  daysUntilReset,
  formatDuration,
  formatPeriod,
  formatUsd,
  formatUtc,
  normalizeE164,
  parsePeriodStart,
  projectToPeriodEnd,
  resetsIn,
  warningLevel,
} from "./format";

describe("billing periods", () => {
  const december = parsePeriodStart("2026-12-01");

  it("names the period with its last day", () => {
    expect(formatPeriod(december)).toBe("1–31 Dec 2026");
    expect(formatPeriod(parsePeriodStart("2027-02-01"))).toBe("1–28 Feb 2027");
    expect(formatPeriod(parsePeriodStart("2028-02-01"))).toBe("1–29 Feb 2028");
  });

  it("counts whole days to the reset", () => {
    expect(daysUntilReset(december, new Date("2026-12-04T19:00:00Z"))).toBe(28);
    expect(daysUntilReset(december, new Date("2026-12-31T23:00:00Z"))).toBe(1);
    expect(daysUntilReset(december, new Date("2027-01-02T00:00:00Z"))).toBe(0);
    expect(resetsIn(1)).toBe("resets tomorrow");
    expect(resetsIn(28)).toBe("resets in 28 days");
  });

  it("projects usage at the pace so far", () => {
    // 10 of 31 days gone, 100 used: 310 by the end.
    expect(projectToPeriodEnd(100, december, new Date("2026-12-11T00:00:00Z"))).toBe(310);
    // Too early to have a pace: the usage itself.
    expect(projectToPeriodEnd(7, december, new Date("2026-12-01T00:10:00Z"))).toBe(7);
  });

  it("lists every day up to today, no gaps", () => {
    const days = daysOfPeriod(december, new Date("2026-12-03T12:00:00Z"));
    expect(days).toEqual(["2026-12-01", "2026-12-02", "2026-12-03"]);
  });
});

describe("formatting", () => {
  it("keeps sub-cent costs visible", () => {
    expect(formatUsd(0)).toBe("$0.00");
    expect(formatUsd(0.00042)).toBe("$0.0004");
    expect(formatUsd(0.00000125)).toBe("< $0.0001");
    expect(formatUsd("12.5")).toBe("$12.50");
  });

  it("reads durations as a person would", () => {
    expect(formatDuration(42)).toBe("42 s");
    expect(formatDuration(65)).toBe("1 min 05 s");
    expect(formatDuration(7380)).toBe("2 h 03 min");
  });

  it("picks the warning that applies", () => {
    expect(warningLevel(79.9)).toBe(0);
    expect(warningLevel(80)).toBe(80);
    expect(warningLevel(96)).toBe(95);
    expect(warningLevel(100)).toBe(100);
  });

  it("accepts E.164 numbers with separators and refuses the rest", () => {
    expect(normalizeE164("+1 (415) 555-0100")).toBe("+14155550100");
    expect(normalizeE164("4155550100")).toBeNull();
    expect(normalizeE164("+0123456789")).toBeNull();
    expect(normalizeE164("+1234")).toBeNull();
    expect(normalizeE164("+3581234")).toBe("+3581234"); // 7 digits, as the server allows
  });
});

describe("moments", () => {
  it("names UTC when it shows UTC", () => {
    expect(formatUtc("2026-12-04T23:30:00Z")).toBe("4 Dec 2026, 23:30 UTC");
    expect(formatUtc(null)).toBe("—");
  });
});
