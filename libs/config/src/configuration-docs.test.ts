import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { renderConfigTable } from "./load-config.js";

describe("docs/configuration.md", () => {
  it("holds the table the settings registry renders (run `make docs` after changing a setting)", () => {
    const doc = readFileSync(new URL("../../../docs/configuration.md", import.meta.url), "utf8");
    expect(doc).toContain(renderConfigTable());
  });
});
