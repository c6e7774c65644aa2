// Upload panel: file picker and drag-and-drop, one XHR per file with its own progress bar and error.
import { upload } from "./api.js";
import { h, $, bytes } from "./dom.js";

/** `onUploaded(image, file)` is called for each stored image. */
export function initUpload({ onUploaded }) {
  const input = $("files");
  const drop = $("drop");
  input.addEventListener("change", () => {
    send([...input.files], onUploaded);
    input.value = "";
  });
  drop.addEventListener("dragover", (e) => {
    e.preventDefault();
    drop.classList.add("over");
  });
  drop.addEventListener("dragleave", () => drop.classList.remove("over"));
  drop.addEventListener("drop", (e) => {
    e.preventDefault();
    drop.classList.remove("over");
    send([...e.dataTransfer.files], onUploaded);
  });
}

function send(files, onUploaded) {
  for (const file of files) one(file, onUploaded);
}

// Every failure ends up in the file's row: nothing escapes as an unhandled rejection.
async function one(file, onUploaded) {
  const bar = h("progress", { max: 1, value: 0, "aria-label": `Upload of ${file.name}` });
  const status = h("span", { class: "status" }, `${bytes(file.size)} · uploading`);
  const row = h("li", { class: "upload" }, h("span", { class: "name" }, file.name), bar, status);
  $("uploads").prepend(row);
  try {
    const image = await upload(file, (f) => (bar.value = f));
    bar.value = 1;
    status.textContent = `${bytes(file.size)} · uploaded`;
    row.classList.add("done");
    onUploaded(image, file);
  } catch (err) {
    row.classList.add("failed");
    status.textContent = err.message;
    status.setAttribute("role", "alert");
  }
}
