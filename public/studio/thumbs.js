// Gallery thumbnails without downloading originals: a small canvas rendition of the file made in the
// browser at upload time, kept in sessionStorage for this tab (render URLs, issue 15, will replace it).

const PREFIX = "studio.thumb.";
const SIDE = 240; // longest side in CSS pixels; the gallery shows them at about half that

/** A JPEG data URL of the file scaled to fit SIDE×SIDE, or null when the browser cannot decode it. */
export async function render(file) {
  let bitmap;
  try {
    bitmap = await createImageBitmap(file);
  } catch {
    return null; // TIFF, BMP variants, or a corrupt file: the gallery shows a placeholder
  }
  const scale = Math.min(1, SIDE / Math.max(bitmap.width, bitmap.height));
  const canvas = document.createElement("canvas");
  canvas.width = Math.max(1, Math.round(bitmap.width * scale));
  canvas.height = Math.max(1, Math.round(bitmap.height * scale));
  canvas.getContext("2d").drawImage(bitmap, 0, 0, canvas.width, canvas.height);
  bitmap.close();
  return canvas.toDataURL("image/jpeg", 0.8);
}

export function keep(id, dataUrl) {
  if (!dataUrl) return;
  try {
    sessionStorage.setItem(PREFIX + id, dataUrl);
  } catch {
    // storage full: this thumbnail is shown until the next reload only
  }
  memory.set(id, dataUrl);
}

const memory = new Map();

export const thumbFor = (id) => memory.get(id) ?? sessionStorage.getItem(PREFIX + id);

export function forget(id) {
  memory.delete(id);
  sessionStorage.removeItem(PREFIX + id);
}
