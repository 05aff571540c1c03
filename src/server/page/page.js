// The upload page: one photo at a time, from choosing it to its boxes.
// Every outcome (an answer, an error answer, a page that is not JSON, no
// answer at all) ends in a clear status line with the button enabled again.
"use strict";

const REQUEST_TIMEOUT_MS = 120000;
// The server's upload limit, written into the page by the server.
const MAX_UPLOAD_BYTES = Number(document.querySelector('meta[name="max-upload-bytes"]')?.content) || 0;
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
  raw.hidden = true;
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

// Short enough for a badge: an uncertain face shows its lean with a "?".
function badgeLabel(face) {
  return face.uncertain ? `${face.gender}?` : face.gender;
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

function showAnswer(answer, file) {
  const faces = answer.faces || [];
  shownFaces = faces;
  shownSize = [answer.width || photo.naturalWidth, answer.height || photo.naturalHeight];
  stage.classList.remove("pending");
  const summary = summarise(faces);
  setStatus(`${file.name}: ${summary}`);
  photo.alt = `The classified photo. ${summary}`;
  faceList.replaceChildren(...faces.map((face, i) => {
    const item = document.createElement("li");
    item.className = labelOf(face);
    item.tabIndex = 0;
    const number = document.createElement("span");
    number.className = "number";
    number.textContent = `${i + 1}`;
    const label = document.createElement("span");
    label.textContent = face.uncertain ? `uncertain, leans ${face.gender}` : face.gender;
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
  raw.hidden = false;
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
// in the longest wording that stays on the photo and covers neither another
// badge nor any face. Where nothing is free, the shortest wording goes where
// it covers least; a badge that would cover another is left out.
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
    const wordings = [`${i + 1} ${badgeLabel(face)} ${percent(face.score)}`, `${i + 1} ${badgeLabel(face)}`, `${i + 1}`];
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
        const spill = Math.max(0, rect.right - area.width) + Math.max(0, rect.bottom - area.height);
        // Spilling off the photo is worst, then covering a badge, then a
        // face; then a shorter wording, then a later place.
        const cost = [spill, onBadges, onFaces, w, p];
        if (best === null || before(cost, best.cost)) {
          best = { cost, rect, text };
        }
        if (spill === 0 && onBadges === 0 && onFaces === 0) break;
      }
      if (best.cost[0] === 0 && best.cost[1] === 0 && best.cost[2] === 0) break;
    }
    // Too crowded for even the number: the box goes without a badge (the
    // list below names every face) rather than bury another's.
    if (best.cost[1] > 0) {
      badge.remove();
      continue;
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

// An answer that is not JSON comes from something in front of the gateway
// (a proxy, a load balancer); its status says what happened.
function notJsonMessage(response) {
  const what = `${response.status} ${response.statusText}`.trim();
  switch (response.status) {
    case 413:
      return `The server answered ${what}: the photo is larger than the server, or a proxy in front of it, accepts.`;
    case 429:
    case 503:
      return `The server answered ${what}: it is busy. Try again in a moment.`;
    case 502:
    case 504:
      return `The server answered ${what} with a page instead of a result: the classifier behind it may be down or slow. Try again later.`;
    default:
      return `The server answered ${what} with something other than a result. Try again later.`;
  }
}

function megabytes(bytes) {
  return `${(bytes / (1024 * 1024)).toFixed(bytes < 10 * 1024 * 1024 ? 1 : 0)} MB`;
}

// The request being answered; a newer photo replaces it.
let current = null;
let lastFile = null;

async function classify(file) {
  if (!file) {
    setStatus("Choose a photo first.", "error");
    return;
  }
  if (current) {
    current.replaced = true;
    current.abort.abort();
  }
  lastFile = file;
  clearResult();
  if (MAX_UPLOAD_BYTES > 0 && file.size > MAX_UPLOAD_BYTES) {
    setStatus(`${file.name} is ${megabytes(file.size)}; this server takes photos up to ${megabytes(MAX_UPLOAD_BYTES)}.`, "error");
    return;
  }
  const request = { abort: new AbortController(), replaced: false, timedOut: false };
  current = request;
  const refocus = document.activeElement === button;
  button.disabled = true;
  showPreview(file);
  setStatus(`Classifying ${file.name}…`, "busy");
  const slow = setTimeout(() => setStatus(`Still classifying ${file.name}: the server is busy or slow…`, "busy"), SLOW_NOTICE_MS);
  const timeout = setTimeout(() => {
    request.timedOut = true;
    request.abort.abort();
  }, REQUEST_TIMEOUT_MS);
  try {
    const body = new FormData();
    body.append("image", file);
    let response;
    let text = "";
    try {
      response = await fetch("predict", {
        method: "POST", body, signal: request.abort.signal, headers: { Accept: "application/json" },
      });
      text = await response.text();
    } catch (e) {
      if (request.replaced) return;
      clearResult();
      if (request.timedOut) {
        setStatus(`The server did not answer within ${REQUEST_TIMEOUT_MS / 1000} s. Try again later.`, "error");
      } else {
        setStatus("Could not reach the server: it may be down, or the connection was lost. Try again.", "error");
      }
      return;
    }
    if (request.replaced) return;
    let answer = null;
    try {
      answer = JSON.parse(text);
    } catch (e) {
      answer = null;
    }
    if (answer === null || typeof answer !== "object") {
      clearResult();
      setStatus(notJsonMessage(response), "error");
      return;
    }
    if (!response.ok) {
      clearResult();
      setStatus(`${file.name} was not classified: ${errorFromAnswer(response, answer)}`, "error");
      return;
    }
    showAnswer(answer, file);
  } finally {
    clearTimeout(slow);
    clearTimeout(timeout);
    if (current === request) {
      current = null;
      button.disabled = false;
      if (refocus) button.focus();
    }
  }
}

// The browser's own check of `required` (kept for the page without
// JavaScript) would block a retry of the last photo once the chooser was
// cancelled; the script says itself when no photo is chosen.
form.noValidate = true;

form.addEventListener("submit", (event) => {
  event.preventDefault();
  classify(input.files[0] || lastFile);
});

// Emptied as the chooser opens, so that choosing the same file again (after
// an error, say) is still a change.
input.addEventListener("click", () => {
  input.value = "";
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
    clearResult();
    setStatus("That is not a photo: drop an image file.", "error");
    return;
  }
  const files = new DataTransfer();
  files.items.add(file);
  input.files = files.files;
  classify(file);
});

// A file the browser cannot show (not an image, or damaged) has no preview
// rather than a broken-image icon; the server's answer still comes.
photo.addEventListener("error", () => {
  if (photo.getAttribute("src")) stage.hidden = true;
});
photo.addEventListener("load", () => {
  stage.hidden = false;
});

// Badges are measured in screen pixels, so they are placed again when the
// picture changes size (a rotated phone, a resized window).
new ResizeObserver(() => placeBadges()).observe(boxes);
photo.addEventListener("load", () => placeBadges());
