// The studio page's entry module: sign-in and sign-out, then wires upload, gallery, chain, run and history.
import { api, setToken, handleUnauthorized, tenantOf } from "./api.js";
import * as auth from "./auth.js";
import { $, guard, reporter } from "./dom.js";
import { initUpload } from "./upload.js";
import * as gallery from "./gallery.js";
import * as chain from "./chain.js";
import * as runner from "./run.js";
import * as history from "./history.js";

function showSignIn(message = "") {
  stopAll();
  $("studio").hidden = true;
  $("who").hidden = $("sign-out").hidden = true;
  $("signin").hidden = false;
  $("signin-error").textContent = message;
  $("token").focus();
}

function stopAll() {
  runner.stop();
  history.stop();
  gallery.reset();
}

// Any 401 (bad or expired token): back to the form with the API's message.
handleUnauthorized((err) => {
  sessionStorage.removeItem("studio.token");
  showSignIn(err.message);
});

async function start(token) {
  setToken(token);
  // The first call checks the token; the catalogue and presets are needed before anything else.
  const [steps, presets] = await Promise.all([api("/steps"), api("/presets")]);
  $("signin").hidden = true;
  $("studio").hidden = false;
  const tenant = tenantOf(token);
  $("who").textContent = tenant ? `Signed in as ${tenant}` : "Signed in";
  $("who").hidden = $("sign-out").hidden = false;
  chain.initChain(steps, presets);
  gallery.load().catch(reporter($("gallery-status")));
  history.load().catch(reporter($("feed-state")));
  const followed = runner.remembered();
  if (followed) runner.follow(followed).catch(reporter($("run-error")));
}

function targetText(ids) {
  $("run-target").textContent = ids.length
    ? `Runs the chain on ${ids.length} selected image${ids.length > 1 ? "s" : ""}.`
    : "Select images in the gallery to run the chain on them.";
}

async function runChain() {
  $("run-error").textContent = "";
  chain.clearErrors();
  const images = gallery.selection();
  const steps = chain.chain();
  if (!images.length) throw new Error("Select at least one image in the gallery first.");
  if (!steps.length) throw new Error("Add at least one step (or load a preset) first.");
  try {
    await runner.run(images, steps);
  } catch (err) {
    if (err.code === "invalid_chain") chain.showError(err);
    throw err;
  }
}

function wire() {
  $("signin-form").addEventListener(
    "submit",
    guard(async (e) => {
      e.preventDefault();
      const token = $("token").value.trim();
      if (!token) return;
      $("signin-error").textContent = "";
      await start(token);
      auth.save(token); // only a token the API accepted is kept
      $("token").value = "";
    }, reporter($("signin-error"))),
  );
  $("sign-out").addEventListener("click", () => {
    auth.forget();
    runner.forget();
    showSignIn("Signed out.");
  });
  initUpload({ onUploaded: (image, file) => gallery.add(image, file) });
  gallery.initGallery({ onSelection: targetText });
  history.initHistory({ open: (id) => runner.follow(id).catch(reporter($("run-error"))), image: gallery.analyzed });
  $("run").addEventListener("click", guard(runChain, reporter($("run-error"))));
}

wire();
// Offline (a closed lid, a lost network): say so; back online: catch up now, not after a backoff.
window.addEventListener("offline", () => {
  for (const id of ["task-conn", "feed-state"]) $(id).textContent = "offline: catches up when the network is back";
});
window.addEventListener("online", () => {
  runner.resume().catch(reporter($("run-error")));
  history.restart().catch(reporter($("feed-state")));
});
const token = auth.initialToken();
if (token) start(token).catch((err) => (err.status === 401 ? null : showSignIn(err.message)));
else showSignIn();
