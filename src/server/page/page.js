// The upload page: one photo at a time, from choosing it to its boxes.
// Every outcome (an answer, an error answer, a page that is not JSON, no
// answer at all) ends in a clear status line with the button enabled again.
"use strict";

const REQUEST_TIMEOUT_MS = 120000;
const SLOW_NOTICE_MS = 5000;

const form = document.getElementById("upload");
const input = document.getElementById("image");
const drop = document.getElementById("drop");
const button = document.getElementById("classify");
const status = document.getElementById("status");
const result = document.getElementById("result");
const stage = document.getElementById("stage");
const photo = document.getElementById("photo");
const boxes = document.getElementById("boxes");
const faceList = document.getElementById("faces");
const json = document.getElementById("json");
const raw = document.getElementById("raw");

let inFlight = false;
let previewUrl = null;
let shownFaces = [];
let shownSize = null;

function setStatus(text, kind) {
  status.textContent = text;
  status.className = kind || "";
  // An error interrupts; progress and results are announced politely.
  status.setAttribute("role", kind === "error" ? "alert" : "status");
}

function clearResult() {
  result.hidden = true;
  stage.classList.remove("pending");
  boxes.replaceChildren();
  faceList.replaceChildren();
  json.textContent = "";
  raw.open = false;
  photo.alt = "";
  shownFaces = [];
  shownSize = null;
}

function showPreview(file) {
  if (previewUrl) URL.revokeObjectURL(previewUrl);
  previewUrl = URL.createObjectURL(file);
  photo.src = previewUrl;
  photo.alt = `The photo being classified: ${file.name}`;
  stage.classList.add("pending");
  result.hidden = false;
}

function labelOf(face) {
  return face.uncertain ? "uncertain" : face.gender;
}

function percent(score) {
  return `${Math.round(score * 100)}%`;
}

function describeFace(face) {
  const parts = [face.uncertain ? `uncertain (leans ${face.gender})` : face.gender,
    `${percent(face.score)} sure`];
  if (typeof face.age === "number") parts.push(`about ${Math.round(face.age)} years`);
  return parts.join(", ");
}

function summarise(faces) {
  if (faces.length === 0) return "No face found in this photo.";
  const count = (label) => faces.filter((f) => labelOf(f) === label).length;
  const parts = ["female", "male", "uncertain"]
    .map((label) => [count(label), label])
    .filter(([n]) => n > 0)
    .map(([n, label]) => `${n} ${label}`);
  const noun = faces.length === 1 ? "face" : "faces";
  return `${faces.length} ${noun}: ${parts.join(", ")}.`;
}

function highlight(index, on) {
  const box = boxes.children[index];
  if (box) box.classList.toggle("highlight", on);
}

function showAnswer(answer) {
  const faces = answer.faces || [];
  shownFaces = faces;
  shownSize = [answer.width || photo.naturalWidth, answer.height || photo.naturalHeight];
  stage.classList.remove("pending");
  const summary = summarise(faces);
  setStatus(summary);
  photo.alt = `The classified photo. ${summary}`;
  faceList.replaceChildren(...faces.map((face, i) => {
    const item = document.createElement("li");
    item.className = labelOf(face);
    item.tabIndex = 0;
    const number = document.createElement("span");
    number.className = "number";
    number.textContent = `${i + 1}`;
    const label = document.createElement("span");
    label.textContent = labelOf(face);
    const detail = document.createElement("span");
    detail.className = "detail";
    detail.textContent = describeFace(face).replace(/^[^,]*, /, "");
    item.append(number, label, detail);
    item.setAttribute("aria-label", `Face ${i + 1}: ${describeFace(face)}`);
    for (const [on, events] of [[true, ["mouseenter", "focus"]], [false, ["mouseleave", "blur"]]]) {
      for (const event of events) item.addEventListener(event, () => highlight(i, on));
    }
    return item;
  }));
  json.textContent = JSON.stringify(answer, null, 2);
  result.hidden = false;
  drawBoxes();
}

// Boxes are placed in the photo's own pixels as percentages, so they follow
// the picture at any size; badges are then moved so none covers another.
function drawBoxes() {
  boxes.replaceChildren();
  if (!shownSize || shownFaces.length === 0) return;
  const [width, height] = shownSize;
  for (const [i, face] of shownFaces.entries()) {
    const [l, t, r, b] = face.box;
    const box = document.createElement("div");
    box.className = `box ${labelOf(face)}`;
    box.style.left = `${(l / width) * 100}%`;
    box.style.top = `${(t / height) * 100}%`;
    box.style.width = `${((r - l) / width) * 100}%`;
    box.style.height = `${((b - t) / height) * 100}%`;
    box.dataset.face = `${i + 1}`;
    boxes.append(box);
  }
  placeBadges();
}

function overlapArea(a, b) {
  const w = Math.min(a.right, b.right) - Math.max(a.left, b.left);
  const h = Math.min(a.bottom, b.bottom) - Math.max(a.top, b.top);
  return w > 0 && h > 0 ? w * h : 0;
}

// Whether cost `a` is lower than `b`, comparing their parts in order.
function before(a, b) {
  const k = a.findIndex((c, i) => c !== b[i]);
  return k >= 0 && a[k] < b[k];
}

function rectOf(el) {
  return { left: el.offsetLeft, top: el.offsetTop, right: el.offsetLeft + el.offsetWidth, bottom: el.offsetTop + el.offsetHeight };
}

// Each badge goes above its box, else below it, else inside its top edge,
// in the longest wording that covers neither another badge nor any face.
// Where nothing is free, the number alone goes where it covers least, and
// never over another badge if that can be helped.
function placeBadges() {
  for (const badge of boxes.querySelectorAll(".badge")) badge.remove();
  const area = boxes.getBoundingClientRect();
  if (area.width === 0) return;
  const faceRects = [...boxes.children].map(rectOf);
  const placed = [];
  const order = faceRects.map((rect, i) => ({ rect, i }))
    .sort((a, b) => a.rect.top - b.rect.top || a.rect.left - b.rect.left);
  for (const { rect: box, i } of order) {
    const face = shownFaces[i];
    const badge = document.createElement("div");
    badge.className = `badge ${labelOf(face)}`;
    boxes.append(badge);
    const wordings = [`${i + 1} ${labelOf(face)} ${percent(face.score)}`, `${i + 1} ${labelOf(face)}`, `${i + 1}`];
    let best = null;
    for (const [w, text] of wordings.entries()) {
      badge.textContent = text;
      const width = badge.offsetWidth;
      const height = badge.offsetHeight;
      const left = Math.min(Math.max(0, box.left), Math.max(0, area.width - width));
      const tops = [box.top - height - 2, box.bottom + 2, box.top + 2];
      for (const [p, wanted] of tops.entries()) {
        const top = Math.min(Math.max(0, wanted), Math.max(0, area.height - height));
        const rect = { left, top, right: left + width, bottom: top + height };
        const onBadges = placed.reduce((sum, other) => sum + overlapArea(rect, other), 0);
        const onFaces = faceRects.reduce((sum, other) => sum + overlapArea(rect, other), 0);
        // Covering a badge is worst, then a face; then a shorter wording, then a later place.
        const cost = [onBadges, onFaces, w, p];
        if (best === null || before(cost, best.cost)) {
          best = { cost, rect, text };
        }
        if (onBadges === 0 && onFaces === 0) break;
      }
      if (best.cost[0] === 0 && best.cost[1] === 0) break;
    }
    badge.textContent = best.text;
    badge.style.left = `${best.rect.left}px`;
    badge.style.top = `${best.rect.top}px`;
    placed.push(best.rect);
  }
}

function errorFromAnswer(response, body) {
  if (body && typeof body.error === "string") return body.error;
  return `${response.status} ${response.statusText}`.trim();
}

async function classify(file) {
  if (inFlight) return;
  if (!file) {
    setStatus("Choose a photo first.", "error");
    return;
  }
  inFlight = true;
  button.disabled = true;
  clearResult();
  showPreview(file);
  setStatus(`Classifying ${file.name}…`, "busy");
  const slow = setTimeout(() => setStatus(`Still classifying ${file.name}: the server is busy or slow…`, "busy"), SLOW_NOTICE_MS);
  const abort = new AbortController();
  const timeout = setTimeout(() => abort.abort(), REQUEST_TIMEOUT_MS);
  try {
    const body = new FormData();
    body.append("image", file);
    let response;
    try {
      response = await fetch("predict", {
        method: "POST", body, signal: abort.signal, headers: { Accept: "application/json" },
      });
    } catch (e) {
      clearResult();
      if (abort.signal.aborted) {
        setStatus(`The server did not answer within ${REQUEST_TIMEOUT_MS / 1000} s. Try again later.`, "error");
      } else {
        setStatus("Could not reach the server: it may be down, or the connection was lost. Try again.", "error");
      }
      return;
    }
    const text = await response.text().catch(() => "");
    let answer = null;
    try {
      answer = JSON.parse(text);
    } catch (e) {
      answer = null;
    }
    if (answer === null || typeof answer !== "object") {
      clearResult();
      const what = `${response.status} ${response.statusText}`.trim();
      setStatus(`The server answered ${what} with a page instead of a result: the classifier behind it may be down. Try again later.`, "error");
      return;
    }
    if (!response.ok) {
      clearResult();
      setStatus(`${file.name} was not classified: ${errorFromAnswer(response, answer)}`, "error");
      return;
    }
    showAnswer(answer);
  } finally {
    clearTimeout(slow);
    clearTimeout(timeout);
    inFlight = false;
    button.disabled = false;
  }
}

form.addEventListener("submit", (event) => {
  event.preventDefault();
  classify(input.files[0]);
});

input.addEventListener("change", () => {
  if (input.files.length > 0) classify(input.files[0]);
});

// The whole page takes a drop, so a photo dropped beside the box is not
// opened by the browser in place of the page.
for (const event of ["dragenter", "dragover"]) {
  document.addEventListener(event, (e) => {
    e.preventDefault();
    drop.classList.add("dragging");
  });
}
document.addEventListener("dragleave", (e) => {
  if (e.relatedTarget === null) drop.classList.remove("dragging");
});
document.addEventListener("drop", (e) => {
  e.preventDefault();
  drop.classList.remove("dragging");
  const file = [...(e.dataTransfer?.files || [])].find((f) => f.type.startsWith("image/") || f.type === "");
  if (!file) {
    setStatus("That is not a photo: drop an image file.", "error");
    return;
  }
  const files = new DataTransfer();
  files.items.add(file);
  input.files = files.files;
  classify(file);
});

// Badges are measured in screen pixels, so they are placed again when the
// picture changes size (a rotated phone, a resized window).
new ResizeObserver(() => placeBadges()).observe(boxes);
photo.addEventListener("load", () => placeBadges());
