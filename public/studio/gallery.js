// Gallery panel: the tenant's images newest first (cursor pages), selection for runs, delete with confirmation.
import { api } from "./api.js";
import { h, $, bytes, guard, reporter } from "./dom.js";

const PAGE = 24;
const items = new Map(); // id → image object, in display order (Map keeps insertion order)
const selected = new Set();
const files = new Map(); // id → File uploaded in this tab (the "before" of a result, no download)
// id → placeholder from the feed: it may arrive before the upload's answer is shown or while a
// listing (read before the analysis ended) is on its way, so it outlives the gallery's items.
const analysed = new Map();
let cursor = null;
let onChange = () => {};

export function initGallery({ onSelection }) {
  onChange = onSelection;
  $("gallery-more").addEventListener("click", guard(() => load(false), reporter($("gallery-status"))));
}

export async function load(reset = true) {
  if (reset) {
    items.clear();
    cursor = null;
  }
  const query = new URLSearchParams({ limit: String(PAGE) });
  if (cursor) query.set("cursor", cursor);
  const page = await api(`/images?${query}`);
  for (const image of page.items) items.set(image.id, image);
  cursor = page.next_cursor;
  render();
}

/** A freshly uploaded image goes first, selected (the next run is usually about it). */
export function add(image, file) {
  const rest = [...items.values()].filter((i) => i.id !== image.id);
  items.clear();
  for (const i of [image, ...rest]) items.set(i.id, i);
  if (file) files.set(image.id, file);
  selected.add(image.id);
  render();
}

/** The tenant feed's `image.analyzed`: keep the placeholder, and paint it if the tile still waits. */
export function analyzed(event) {
  analysed.set(event.image, event.placeholder);
  const thumb = document.querySelector(`li[data-image="${CSS.escape(event.image)}"] .thumb`);
  if (thumb) paint(thumb, event.placeholder);
}

export const selection = () => [...selected].filter((id) => items.has(id));
export const image = (id) => items.get(id);
export const localFile = (id) => files.get(id);

export function reset() {
  items.clear();
  analysed.clear();
  selected.clear();
  files.clear();
  cursor = null;
  render();
}

function render() {
  const list = $("gallery");
  list.replaceChildren(...[...items.values()].map(card));
  $("gallery-more").hidden = !cursor;
  $("gallery-status").textContent = items.size ? "" : "No images yet: upload some above.";
  onChange(selection());
}

function card(image) {
  const thumb = h("label", { class: "thumb" });
  thumb.append(thumbnail(image, thumb));
  paint(thumb, image.placeholder ?? analysed.get(image.id));
  const box = h("input", {
    type: "checkbox",
    id: `sel-${image.id}`,
    checked: selected.has(image.id),
    "aria-label": `Select ${image.name}`,
    onchange: (e) => {
      if (e.target.checked) selected.add(image.id);
      else selected.delete(image.id);
      onChange(selection());
    },
  });
  const actions = h("div", { class: "actions" });
  const status = h("p", { class: "error", role: "alert" });
  const askDelete = () => {
    actions.replaceChildren(
      h("span", {}, "Delete it and its results?"),
      h("button", { type: "button", onclick: guard(() => remove(image), reporter(status)) }, "Confirm delete"),
      h("button", { type: "button", onclick: () => actions.replaceChildren(deleteButton) }, "Keep"),
    );
    actions.querySelector("button").focus();
  };
  const deleteButton = h("button", { type: "button", "aria-label": `Delete ${image.name}`, onclick: askDelete }, "Delete");
  actions.append(deleteButton);
  return h(
    "li",
    { class: "card", "data-image": image.id },
    Object.assign(thumb, { htmlFor: box.id }),
    h("div", { class: "meta" }, box, h("span", { class: "name", title: image.name }, image.name)),
    h("p", { class: "help" }, `${image.width}×${image.height} · ${image.format} · ${bytes(image.bytes)}`),
    actions,
    status,
  );
}

async function remove(image) {
  await api(`/images/${image.id}`, { method: "DELETE" });
  items.delete(image.id);
  selected.delete(image.id);
  files.delete(image.id);
  render();
}

// The image object's `links.thumbnail` (a signed render URL of a 256 px square, format negotiated
// from the browser's Accept, cached by the edge and the browser): a gallery never downloads an
// original. Taken as a same-origin path so the page's CSP (`img-src 'self'`) holds behind any
// proxy that rewrites the host. Lazy: a long gallery renders only what is scrolled into view.
// Until it has loaded, the tile (`thumb`) shows the image's placeholder under it (see `paint`).
function thumbnail(image, thumb) {
  const placeholder = () => h("div", { class: "placeholder", "aria-hidden": "true" }, image.format.toUpperCase());
  const link = image.links?.thumbnail;
  if (!link) return placeholder();
  const url = new URL(link, location.href);
  const img = h("img", { src: url.pathname + url.search, alt: "", width: 120, height: 120, loading: "lazy" });
  // A rendition the server refuses (e.g. a format it stores but cannot render) shows the format instead.
  img.addEventListener("error", () => img.replaceWith(placeholder()), { once: true });
  img.addEventListener("load", () => {
    thumb.dataset.loaded = "true";
    thumb.style.backgroundColor = thumb.style.backgroundImage = "";
  }, { once: true });
  return img;
}

// The image's placeholder (`image.analyzed`, issue 17) behind a tile whose thumbnail has not loaded
// yet: its dominant colour at once, then the ThumbHash's blurred preview (a data: URL, which the
// page's CSP allows). Set through the CSSOM, which the policy's `style-src 'self'` permits.
function paint(thumb, placeholder) {
  if (!placeholder || thumb.dataset.loaded) return;
  thumb.style.backgroundColor = placeholder.dominant_color;
  thumb.dataset.placeholder = placeholder.dominant_color;
  preview(placeholder.thumbhash).then((url) => {
    if (url && !thumb.dataset.loaded) thumb.style.backgroundImage = `url("${url}")`;
  });
}

let decoder = null; // the vendored ThumbHash module, fetched the first time a placeholder is shown
async function preview(hash) {
  try {
    decoder ??= import("./thumbhash.js");
    const { thumbHashToDataURL } = await decoder;
    return thumbHashToDataURL(Uint8Array.from(atob(hash), (c) => c.charCodeAt(0)));
  } catch {
    return null; // a hash that does not decode: the dominant colour stays
  }
}
