// Browser tests of the studio page (issue 14, tests 1, 2, 3, 7) against a real `wrangler dev`:
// sign-in, uploads with a refused file, a chain built from the forms run to its download, phone
// layout; and the gallery's thumbnails through render links (issue 15).
//   node_modules/.bin/node --test tests/browser/*.test.mjs   (after scripts/build.sh)
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { startStudio } from "./server.mjs";
import { launchBrowser, openPage, signIn, upload } from "./browser.mjs";
import { png, corruptPng, pngInfo } from "./fixtures.mjs";

let studio;
let browser;
before(async () => {
  [studio, browser] = await Promise.all([startStudio(), launchBrowser()]);
});
after(async () => {
  await browser?.close();
  await studio?.stop();
});

test("1. sign in with a pasted token; a bad token shows the API's error", async () => {
  const { page, shot, done } = await openPage(browser, "1-sign-in", {
    allow: [/Failed to load resource: the server responded with a status of 401/],
  });
  const transferred = [];
  page.on("response", async (r) => transferred.push((await r.body().catch(() => Buffer.alloc(0))).length));
  await page.goto(studio.url);
  await page.getByLabel("Token").waitFor();
  await page.waitForLoadState("networkidle");
  const firstLoad = transferred.reduce((a, b) => a + b, 0);
  assert.ok(firstLoad < 100_000, `first load ${firstLoad} bytes`);
  await shot("form");

  await page.getByLabel("Token").fill("not.a.token");
  await page.getByRole("button", { name: "Sign in" }).click();
  const error = page.getByRole("alert").filter({ hasText: /\S/ }).first();
  await error.waitFor();
  const expected = await (await studio.api("not.a.token", "/steps")).json();
  assert.equal(await error.textContent(), expected.error.message, "the API's own message");
  assert.equal(await page.getByRole("heading", { name: "Gallery" }).count(), 0);
  await shot("bad-token");

  await page.getByLabel("Token").fill(studio.token("sign-in"));
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.getByText("Signed in as sign-in").waitFor();
  await page.getByRole("heading", { name: "Gallery" }).waitFor();
  await shot("signed-in");
  await page.reload(); // the token is kept for this tab
  await page.getByText("Signed in as sign-in").waitFor();
  await page.getByRole("button", { name: "Sign out" }).click();
  await page.getByLabel("Token").waitFor();
  assert.equal(await page.evaluate(() => sessionStorage.getItem("studio.token")), null);
  await done();
});

test("2. three uploads by the picker, one corrupt: two in the gallery, the API's message for the third (then a drop, a delete, a zip)", async () => {
  const { page, shot, done } = await openPage(browser, "2-upload", {
    allow: [/Failed to load resource: the server responded with a status of 422/],
  });
  const originals = [];
  page.on("request", (r) => /\/images\/img_\w+\/content/.test(r.url()) && originals.push(r.url()));
  const token = studio.token("uploader");
  await signIn(page, studio.url, token);
  await page.getByText("No images yet").waitFor();
  await upload(page, [
    { name: "dawn.png", buffer: png(320, 200, 1) },
    { name: "broken.png", buffer: corruptPng() },
    { name: "dusk.png", buffer: png(200, 320, 2) },
  ]);
  const gallery = page.getByRole("list", { name: "Images" });
  await gallery.getByText("dawn.png").waitFor();
  await gallery.getByText("dusk.png").waitFor();
  const refused = await studio.api(token, "/images", { method: "POST", body: corruptPng(), headers: { "Content-Type": "image/png" } });
  const message = (await refused.json()).error.message;
  const row = page.getByRole("list", { name: "Uploads" }).getByRole("listitem").filter({ hasText: "broken.png" });
  await row.getByText(message).waitFor();
  assert.equal(await gallery.getByRole("listitem").count(), 2);
  assert.equal(await gallery.getByText("broken.png").count(), 0);
  await gallery.getByText("320×200 · png").waitFor();
  // Every upload shows its own finished progress bar.
  for (const name of ["dawn.png", "dusk.png"]) {
    assert.equal(await page.getByRole("progressbar", { name: `Upload of ${name}` }).evaluate((p) => p.value), 1);
  }
  // Thumbnails are the images' render links (a 256 px rendition): no original is downloaded.
  const thumbs = await gallery.locator("img").evaluateAll((imgs) => imgs.map((i) => new URL(i.src).pathname));
  assert.equal(thumbs.length, 2);
  for (const path of thumbs) assert.match(path, /^\/images\/img_\w+\/render$/);
  assert.deepEqual(originals, []);
  await shot("uploaded");

  // Drag and drop onto the upload area takes the same path.
  const dropped = await page.evaluateHandle((b64) => {
    const dt = new DataTransfer();
    dt.items.add(new File([Uint8Array.from(atob(b64), (c) => c.charCodeAt(0))], "noon.png", { type: "image/png" }));
    return dt;
  }, png(160, 160, 7).toString("base64"));
  await page.locator("#drop").dispatchEvent("drop", { dataTransfer: dropped });
  await gallery.getByText("noon.png").waitFor();

  await gallery.getByRole("button", { name: "Delete dawn.png" }).click();
  await shot("confirm-delete");
  await gallery.getByRole("button", { name: "Confirm delete" }).click();
  await gallery.getByText("dawn.png").waitFor({ state: "detached" });
  const listed = await (await studio.api(token, "/images")).json();
  assert.deepEqual(listed.items.map((i) => i.name), ["noon.png", "dusk.png"]);

  // Several images run together and download as one zip.
  await page.getByText("Runs the chain on 2 selected images.").waitFor();
  await page.getByLabel("Preset").selectOption("thumbnail");
  await page.getByRole("button", { name: "Load preset" }).click();
  await page.getByRole("button", { name: "Run" }).click();
  await page.getByText("2 images (zip): 256×256 webp").waitFor();
  const [download] = await Promise.all([page.waitForEvent("download"), page.getByRole("link", { name: "Download" }).click()]);
  assert.equal(readFileSync(await download.path()).toString("latin1", 0, 4), "PK\x03\x04", "a zip");
  await shot("zip");
  await done();
});

test("3. a three-step chain from the forms runs to 100%, every step succeeds, the download is right", async () => {
  const { page, shot, done } = await openPage(browser, "3-run");
  // Arriving with #token= (the link scripts/dev.sh prints) signs in without the form.
  await page.goto(`${studio.url}/#token=${studio.token("runner")}`);
  await page.getByRole("heading", { name: "Gallery" }).waitFor();
  assert.equal(new URL(page.url()).hash, "", "the token leaves the address bar");
  await upload(page, [{ name: "field.png", buffer: png(320, 200, 3) }]);
  await page.getByRole("list", { name: "Images" }).getByText("field.png").waitFor();

  const steps = page.getByRole("list", { name: "Steps" });
  const add = async (op) => {
    await page.getByLabel("Step to add").selectOption(op);
    await page.getByRole("button", { name: "Add step" }).click();
  };
  await add("resize");
  await steps.getByRole("listitem").nth(0).getByLabel("width").fill("64");
  await add("encode");
  await add("grayscale");
  // Reorder: grayscale before encode, by keyboard on the step (Alt+↑).
  await steps.getByRole("heading", { name: "3. grayscale" }).focus();
  await page.keyboard.press("Alt+ArrowUp");
  await steps.getByRole("heading", { name: "2. grayscale" }).waitFor();
  await steps.getByRole("listitem").nth(2).getByLabel("format").selectOption("png");
  const json = JSON.parse(await page.getByLabel("Chain JSON").inputValue());
  assert.deepEqual(json, [{ op: "resize", width: 64 }, { op: "grayscale" }, { op: "encode", format: "png" }]);
  await shot("chain");

  await page.getByRole("button", { name: "Run" }).click();
  const bar = page.getByRole("progressbar", { name: "Task progress" });
  await bar.and(page.locator('[aria-valuenow="100"]')).waitFor();
  const status = page.getByRole("list", { name: "Step status" }).getByRole("listitem");
  assert.equal(await status.count(), 3);
  for (const s of await status.all()) assert.equal(await s.getAttribute("data-status"), "succeeded", await s.textContent());
  await page.getByText("64×40 · png").waitFor();
  await page.locator("#after[src^='blob:']").waitFor();
  await shot("succeeded");

  const [download] = await Promise.all([page.waitForEvent("download"), page.getByRole("link", { name: "Download" }).click()]);
  const bytes = readFileSync(await download.path());
  assert.deepEqual(pngInfo(bytes), { format: "png", width: 64, height: 40 });
  await done();
});

test("7. at phone width (375 px) nothing scrolls sideways, from sign-in to a result", async () => {
  const { page, shot, done } = await openPage(browser, "7-phone", { viewport: { width: 375, height: 800 } });
  const noSideScroll = async (state) => {
    const [scroll, width] = await page.evaluate(() => [document.documentElement.scrollWidth, window.innerWidth]);
    assert.ok(scroll <= width, `${state}: ${scroll}px wide in a ${width}px viewport`);
    await shot(state);
  };
  await page.goto(studio.url);
  await page.getByLabel("Token").waitFor();
  await noSideScroll("sign-in");
  await page.getByLabel("Token").fill(studio.token("phone-with-a-rather-long-tenant-name"));
  await page.getByRole("button", { name: "Sign in" }).click();
  await upload(page, [{ name: "a-photo-with-a-very-long-file-name-from-a-phone-camera-2026.png", buffer: png(400, 300, 4) }]);
  await page.getByRole("list", { name: "Images" }).getByRole("listitem").waitFor();
  await page.getByLabel("Preset").selectOption("web");
  await page.getByRole("button", { name: "Load preset" }).click();
  await page.getByRole("heading", { name: "4. encode" }).waitFor();
  await noSideScroll("chain");
  await page.getByRole("button", { name: "Run" }).click();
  await page.getByRole("link", { name: "Download" }).waitFor();
  await page.locator("#after[src^='blob:']").waitFor();
  await noSideScroll("result");
  await done();
});

// Several cold renders at once: they queue for the isolate's turn (src/turn.rs), none may hang.
test("gallery thumbnails load through the images' render links and never request an original", async () => {
  const { page, shot, done } = await openPage(browser, "gallery-thumbnails");
  const token = studio.token("gallery");
  const sizes = [[2400, 1600], [320, 200], [200, 320]];
  const ids = [];
  for (const [i, [w, hgt]] of sizes.entries()) {
    const res = await studio.api(token, `/images?name=g${i}.png`, { method: "POST", body: png(w, hgt, i), headers: { "Content-Type": "image/png" } });
    const body = await res.json();
    assert.equal(res.status, 201, JSON.stringify(body));
    ids.push(body.id);
  }
  const requests = [];
  page.on("request", (r) => /\/images\/img_/.test(r.url()) && requests.push(r));
  await signIn(page, studio.url, token);
  const gallery = page.getByRole("list", { name: "Images" });
  await gallery.getByText("g0.png").waitFor();
  // Every thumbnail finishes loading as a decoded 256 px square (the rendition, not the original).
  const img = gallery.locator("img");
  await page.waitForFunction(() => [...document.querySelectorAll("#gallery img")].every((i) => i.complete));
  assert.deepEqual(await img.evaluateAll((imgs) => imgs.map((i) => [i.naturalWidth, i.naturalHeight])), sizes.map(() => [256, 256]));
  const paths = requests.map((r) => new URL(r.url()).pathname);
  assert.deepEqual(paths.filter((p) => /\/content$/.test(p)), [], "no original is downloaded");
  assert.deepEqual(new Set(paths), new Set(ids.map((id) => `/images/${id}/render`)), "one render link per image");
  for (const r of requests) {
    assert.equal(r.resourceType(), "image");
    const res = await r.response();
    assert.equal(res.status(), 200, r.url());
    assert.match(res.headers()["content-type"], /^image\//);
    assert.match(res.headers().vary, /\bAccept\b/, "the format is negotiated from the browser's Accept");
  }
  await shot("thumbnails");
  await done();
});
