// Browser test of the gallery's placeholders (issue 17) against a real `wrangler dev`: a tile paints
// the image's dominant colour and ThumbHash preview until its thumbnail loads, whether the
// placeholder came on the tenant feed (`image.analyzed`, after the tile was drawn) or in the listing.
// Thumbnails are held by Playwright's routing until the test releases them (no timing involved).
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { startStudio } from "./server.mjs";
import { launchBrowser, openPage, signIn, upload } from "./browser.mjs";
import { png } from "./fixtures.mjs";

let studio;
let browser;
before(async () => {
  [studio, browser] = await Promise.all([startStudio(), launchBrowser()]);
});
after(async () => {
  await browser?.close();
  await studio?.stop();
});

const rgb = (hex) => `rgb(${[1, 3, 5].map((i) => parseInt(hex.slice(i, i + 2), 16)).join(", ")})`;

/** The tile's state: its background (the placeholder) and whether its thumbnail has pixels. */
const tileState = (tile) =>
  tile.evaluate((li) => {
    const thumb = li.querySelector(".thumb");
    const img = thumb.querySelector("img");
    const style = getComputedStyle(thumb);
    return { colour: style.backgroundColor, image: style.backgroundImage, loaded: Boolean(img?.complete && img.naturalWidth > 0) };
  });

test("a tile shows its placeholder colour until its thumbnail loads, from the live feed and from the listing", async () => {
  const { page, shot, done } = await openPage(browser, "placeholder");
  const held = []; // thumbnail requests, answered only when the test releases them
  let arrived = () => {};
  await page.route(/\/images\/img_\w+\/render\?/, (route) => (held.push(route), arrived()));
  const requested = () => (held.length ? Promise.resolve() : new Promise((resolve) => (arrived = resolve)));
  const release = async () => {
    for (const route of held.splice(0)) await route.continue();
  };
  const token = studio.token("placeholders");
  await signIn(page, studio.url, token);
  await page.getByText("No images yet").waitFor(); // the listing is read: only the feed can bring the placeholder
  await upload(page, [{ name: "tile.png", buffer: png(300, 200, 3) }]);
  const tile = page.getByRole("list", { name: "Images" }).getByRole("listitem").filter({ hasText: "tile.png" });
  const id = await tile.getAttribute("data-image");

  // Drawn from the upload's answer (placeholder: null); painted when image.analyzed arrives.
  await tile.locator(".thumb[data-placeholder]").waitFor();
  const { placeholder } = await (await studio.api(token, `/images/${id}`)).json();
  assert.match(placeholder?.dominant_color ?? "", /^#[0-9a-f]{6}$/, "the API has the placeholder");
  await page.waitForFunction((li) => getComputedStyle(li.querySelector(".thumb")).backgroundImage.startsWith('url("data:image/png'), await tile.elementHandle());
  let state = await tileState(tile);
  assert.equal(state.colour, rgb(placeholder.dominant_color), "the dominant colour behind the tile");
  assert.equal(state.loaded, false, "the thumbnail is still held");
  await requested();
  await shot("placeholder-from-feed");

  await release();
  await page.waitForFunction((li) => li.querySelector(".thumb").dataset.loaded === "true", await tile.elementHandle());
  state = await tileState(tile);
  assert.deepEqual([state.loaded, state.image], [true, "none"], "the thumbnail, and no placeholder behind it");
  await shot("thumbnail-loaded");

  // Again from the listing: the placeholder is painted before the held thumbnail loads.
  await page.reload();
  await tile.locator(".thumb[data-placeholder]").waitFor();
  state = await tileState(tile);
  assert.equal(state.colour, rgb(placeholder.dominant_color));
  assert.equal(state.loaded, false);
  await shot("placeholder-from-listing");
  await requested(); // lazy images ask once laid out
  await release();
  await page.waitForFunction((li) => li.querySelector(".thumb").dataset.loaded === "true", await tile.elementHandle());
  assert.equal((await tileState(tile)).loaded, true);
  await done();
});
