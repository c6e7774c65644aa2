// Browser tests of the studio page's live side (issue 14, tests 4, 5, 6) against a `wrangler dev`
// whose every step waits PAUSE_MS first (FAULT_INJECTION=pause), so a test can act mid-chain.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { startStudio } from "./server.mjs";
import { launchBrowser, openPage, signIn, upload } from "./browser.mjs";
import { png } from "./fixtures.mjs";

const PAUSE_MS = 700;
let studio;
let browser;
before(async () => {
  [studio, browser] = await Promise.all([startStudio({ vars: { FAULT_INJECTION: `pause=${PAUSE_MS}` } }), launchBrowser()]);
});
after(async () => {
  await browser?.close();
  await studio?.stop();
});

// `n` cheap steps, then PNG: n+1 steps of at least PAUSE_MS each.
const longChain = (n) => [...Array.from({ length: n }, (_, i) => ({ op: i % 2 ? "invert" : "grayscale" })), { op: "encode", format: "png" }];

async function pasteChain(page, steps) {
  if (!(await page.getByLabel("Chain JSON").isVisible())) await page.getByText("Chain as JSON").click();
  await page.getByLabel("Chain JSON").fill(JSON.stringify(steps));
  await page.getByRole("button", { name: "Apply JSON" }).click();
}

async function withImage(page, tenant) {
  await signIn(page, studio.url, studio.token(tenant));
  await upload(page, [{ name: `${tenant}.png`, buffer: png(240, 160, 5) }]);
  await page.getByRole("list", { name: "Images" }).getByText(`${tenant}.png`).waitFor();
}

const bar = (page) => page.getByRole("progressbar", { name: "Task progress" });
const valueNow = async (page) => Number(await bar(page).getAttribute("aria-valuenow"));
const stepStatuses = (page) => page.getByRole("list", { name: "Step status" }).getByRole("listitem").evaluateAll((li) => li.map((l) => l.dataset.status));

test("4. a long chain is cancelled from the page (after a pasted chain's invalid field is shown on its step)", async () => {
  const { page, shot, done } = await openPage(browser, "4-cancel", {
    allow: [/Failed to load resource: the server responded with a status of 400/],
  });
  await withImage(page, "canceller");

  await pasteChain(page, [{ op: "grayscale" }, { op: "blur", sigma: 0 }, { op: "encode", format: "png" }]);
  await page.getByRole("button", { name: "Run" }).click();
  const sigma = page.getByRole("list", { name: "Steps" }).getByRole("listitem").nth(1).getByLabel("sigma");
  await page.locator("[aria-invalid=true]").waitFor();
  assert.equal(await sigma.getAttribute("aria-invalid"), "true", "the field the API names is marked");
  await page.getByText("must be a number from 0.3 to 100, got 0").first().waitFor();
  await shot("invalid-chain");

  await pasteChain(page, longChain(9));
  await page.getByRole("button", { name: "Run" }).click();
  await page.locator("#task-steps li[data-status=running]").first().waitFor();
  await shot("running");
  await page.getByRole("button", { name: "Cancel", exact: true }).click();
  await page.locator("#task-status", { hasText: "cancelled" }).waitFor({ timeout: 60_000 });
  assert.ok((await valueNow(page)) < 100, "a cancelled chain does not reach 100");
  const statuses = await stepStatuses(page);
  assert.ok(statuses.includes("not run"), statuses.join());
  assert.equal(await page.getByRole("button", { name: "Cancel", exact: true }).isVisible(), false);
  assert.equal(await page.getByRole("link", { name: "Download" }).isVisible(), false);
  const id = await page.locator("#task-id").textContent();
  const task = await (await studio.api(studio.token("canceller"), `/tasks/${id}`)).json();
  assert.equal(task.status, "cancelled");
  await shot("cancelled");
  await done();
});

test("5. the page reloaded mid-task follows the task to its end, across a network drop", async () => {
  const { page, shot, done } = await openPage(browser, "5-reload", {
    // What Chromium itself logs for the sockets and requests cut while offline.
    allow: [/ERR_INTERNET_DISCONNECTED|WebSocket connection to .* failed/],
  });
  await withImage(page, "reloader");
  await pasteChain(page, longChain(7));
  await page.getByRole("button", { name: "Run" }).click();
  await page.locator("#task-steps li[data-status=succeeded]").first().waitFor();
  const id = await page.locator("#task-id").textContent();
  await page.reload();
  // Still running after the reload (the chain has ≥ 6 paused steps to go), then followed to the end.
  await page.locator("#task-id", { hasText: id }).waitFor();
  await page.locator("#task-status", { hasText: "running" }).waitFor();
  assert.ok((await valueNow(page)) < 100);
  await shot("after-reload");
  // The network drops for a while (a closed lid): the page says so, then catches up by itself.
  await page.context().setOffline(true);
  await page.locator("#task-conn", { hasText: "offline" }).waitFor();
  await shot("offline");
  await page.context().setOffline(false);
  await page.waitForFunction(() => !document.getElementById("task-conn").textContent.includes("offline"));
  await bar(page).and(page.locator('[aria-valuenow="100"]')).waitFor({ timeout: 60_000 });
  assert.deepEqual(await stepStatuses(page), Array(8).fill("succeeded"));
  await page.getByRole("link", { name: "Download" }).waitFor();
  await page.getByRole("list", { name: "Tasks" }).locator(`[data-task="${id}"][data-status=succeeded]`).waitFor();
  await shot("finished");
  await done();
});

test("6. a task created through the API appears in the history live and progresses", async () => {
  const { page, shot, done } = await openPage(browser, "6-history");
  const token = studio.token("observer");
  await signIn(page, studio.url, token);
  await page.getByText("No tasks yet.").waitFor();
  await page.locator("#feed-state", { hasText: "live" }).waitFor();
  const image = await (
    await studio.api(token, "/images?name=api.png", { method: "POST", body: png(120, 80, 6), headers: { "Content-Type": "image/png" } })
  ).json();
  const created = await studio.api(token, "/tasks", {
    method: "POST",
    body: JSON.stringify({ images: [image.id], steps: [{ op: "grayscale" }, { op: "encode", format: "png" }] }),
  });
  assert.equal(created.status, 202);
  const { id } = await created.json();
  const row = page.getByRole("list", { name: "Tasks" }).locator(`[data-task="${id}"]`);
  await row.waitFor();
  await shot("appeared");
  await page.getByRole("list", { name: "Tasks" }).locator(`[data-task="${id}"][data-status=succeeded]`).waitFor({ timeout: 60_000 });
  await row.getByText("2/2 steps").waitFor();
  await shot("succeeded");
  // Opening it from the history shows its steps and result.
  await row.getByRole("button", { name: `Open ${id}` }).click();
  await bar(page).and(page.locator('[aria-valuenow="100"]')).waitFor();
  await page.getByRole("link", { name: "Download" }).waitFor();
  await done();
});
