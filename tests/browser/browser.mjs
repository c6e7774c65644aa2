// Chromium (Debian's package) through playwright-core for the browser tests: a page per test that
// records console errors and unhandled rejections, and screenshots under target/studio-screenshots/.
import { chromium } from "playwright-core";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import assert from "node:assert/strict";
import { root } from "./server.mjs";

export const SHOTS = join(root, "target", "studio-screenshots");
const EXECUTABLE = process.env.STUDIO_CHROMIUM ?? "/usr/bin/chromium";

export function launchBrowser() {
  // Root in a container has no user namespace for Chromium's sandbox.
  return chromium.launch({ executablePath: EXECUTABLE, args: ["--no-sandbox"] });
}

/**
 * A fresh context (its own sessionStorage) and page. `allow` lists console errors a test expects
 * (e.g. the browser's own line for a 401 it provokes); anything else fails `done()`.
 */
export async function openPage(browser, name, { viewport = { width: 1280, height: 900 }, allow = [] } = {}) {
  mkdirSync(SHOTS, { recursive: true });
  const context = await browser.newContext({ viewport, acceptDownloads: true });
  const page = await context.newPage();
  page.setDefaultTimeout(30_000);
  const errors = [];
  page.on("console", (m) => m.type() === "error" && errors.push(`console: ${m.text()}`));
  page.on("pageerror", (e) => errors.push(`page error: ${e.message}`));
  let n = 0;
  return {
    page,
    errors,
    /** Saves `target/studio-screenshots/<test>-<n>-<state>.png`. */
    shot: (state) => page.screenshot({ path: join(SHOTS, `${name}-${++n}-${state}.png`), fullPage: true }),
    async done() {
      const unexpected = errors.filter((e) => !allow.some((pattern) => pattern.test(e)));
      await context.close();
      assert.deepEqual(unexpected, [], "console errors or unhandled rejections");
    },
  };
}

/** Signs in through the form. */
export async function signIn(page, url, token) {
  await page.goto(url);
  await page.getByLabel("Token").fill(token);
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.getByRole("heading", { name: "Gallery" }).waitFor();
}

/** Uploads `files` ([{name, buffer}]) through the file input labelled "Upload images". */
export async function upload(page, files) {
  await page.getByLabel("Upload images").setInputFiles(files.map((f) => ({ mimeType: "image/png", ...f })));
}
