import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";

// WCAG 2.x contrast of the colour pairs the stylesheet uses: text ≥ 4.5:1, control borders and the
// focus ring ≥ 3:1. Reads the custom properties from styles.css so a colour change is checked too.
const css = readFileSync(new URL("./styles.css", import.meta.url), "utf8");
const vars = Object.fromEntries(
  [...css.matchAll(/--([a-z0-9-]+):\s*(#[0-9a-f]{6});/gi)].map((m) => [m[1], m[2]]),
);

function color(name: string): string {
  if (name.startsWith("#")) return name;
  const value = vars[name];
  if (!value) throw new Error(`no colour --${name} in styles.css`);
  return value;
}

function luminance(hex: string): number {
  const [r, g, b] = [1, 3, 5].map((i) => {
    const c = Number.parseInt(hex.slice(i, i + 2), 16) / 255;
    return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
  }) as [number, number, number];
  return 0.2126 * r + 0.7152 * g + 0.0722 * b;
}

function contrast(a: string, b: string): number {
  const [hi, lo] = [luminance(color(a)), luminance(color(b))].sort((x, y) => y - x) as [number, number];
  return (hi + 0.05) / (lo + 0.05);
}

describe("colour contrast", () => {
  it.each([
    ["ink", "bg"],
    ["ink", "surface"],
    ["muted", "bg"],
    ["muted", "surface"],
    ["muted", "#eef2f1"],
    ["accent", "surface"],
    ["accent", "bg"],
    ["accent", "accent-soft"],
    ["#ffffff", "accent"],
    ["#ffffff", "accent-hover"],
    ["#ffffff", "danger"],
    ["danger", "surface"],
    ["danger", "danger-soft"],
    ["danger-hover", "danger-soft"],
    ["warning-ink", "warning-soft"],
    ["success-ink", "success-soft"],
    ["amplify-colors-font-interactive", "surface"],
    ["#ffffff", "amplify-colors-primary-80"],
  ])("text %s on %s ≥ 4.5:1", (fg, bg) => {
    expect(contrast(fg, bg)).toBeGreaterThanOrEqual(4.5);
  });

  it.each([
    ["control-border", "surface"],
    ["focus", "surface"],
    ["focus", "bg"],
    ["focus", "accent-soft"],
  ])("%s on %s ≥ 3:1", (fg, bg) => {
    expect(contrast(fg, bg)).toBeGreaterThanOrEqual(3);
  });
});
