// Result view: before/after at screen size, the output's dimensions, format and bytes, and Download
// (the task's signed link: the image itself, or a zip for several images).
import { blobUrl, api } from "./api.js";
import { $, bytes } from "./dom.js";
import * as gallery from "./gallery.js";

let urls = [];

export function hideResult() {
  for (const u of urls) URL.revokeObjectURL(u);
  urls = [];
  $("result").hidden = true;
  $("before").removeAttribute("src");
  $("after").removeAttribute("src");
}

export async function showResult(task) {
  hideResult();
  const outputs = task.outputs ?? [];
  const link = $("download");
  link.href = task.links.download;
  link.onclick = (e) => refreshIfExpired(e, task.id);
  const several = outputs.length > 1;
  link.setAttribute("aria-description", several ? `a zip of ${outputs.length} images` : "the result");
  $("result-info").textContent = several
    ? `${outputs.length} images (zip): ${outputs.map((o) => `${o.width}×${o.height} ${format(o)} ${bytes(o.bytes)}`).join(", ")}`
    : outputs.map((o) => `${o.width}×${o.height} · ${format(o)} · ${bytes(o.bytes)}`).join("");
  $("after").closest("figure").hidden = several; // the zip is not an image
  $("result").hidden = false;
  const first = outputs[0];
  if (!first) return;
  // Both pictures are best effort: a deleted original or a failed fetch leaves the figure empty.
  await Promise.all([
    show($("before"), () => original(first.image)),
    several ? null : show($("after"), () => blobUrl(task.links.download, false)),
  ]);
}

const format = (o) => o.content_type.replace(/^image\//, "");

// A screen-size rendition, not the original (a 48 MP original is about 20 MB).
async function original(id) {
  const file = gallery.localFile(id);
  return file ? URL.createObjectURL(file) : blobUrl(`/images/${id}/render?w=1600&h=1600`);
}

async function show(img, load) {
  try {
    const url = await load();
    urls.push(url);
    img.src = url;
  } catch (err) {
    img.alt = `${img.alt} (not available: ${err.message})`;
  }
}

// Signed links last SIGNED_LINK_TTL_SECONDS: an old page asks for a fresh one first.
async function refreshIfExpired(e, id) {
  const exp = Number(new URL(e.currentTarget.href).searchParams.get("exp"));
  if (!exp || exp * 1000 > Date.now() + 5000) return;
  e.preventDefault();
  const link = e.currentTarget;
  try {
    link.href = (await api(`/tasks/${id}`)).links.download;
    link.click();
  } catch (err) {
    if (err.status !== 401) $("task-error").textContent = err.message;
  }
}
