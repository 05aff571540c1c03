// The gateway's upload page in a real headless Chromium, driven as people
// use it: a single face, a group, a bad file, a double click, the keyboard
// alone, a phone, the dark scheme, no JavaScript, a proxy whose classifier
// is down (an HTML 502), and a gateway that has gone away.
//
// Run by tests/it/upload_page.rs, which starts the gateway and the proxy:
//   GATEWAY_URL  the gateway, serving the page and /predict
//   PROXY_URL    nginx in front of it, whose /predict upstream is down
//   GATEWAY_PID  killed for the last scenario
//   SINGLE, GROUP, NOT_A_PHOTO, TOO_LARGE  files to upload (TOO_LARGE is
//                over the gateway's upload limit)
//   SHOTS        folder for screenshots
//   CHROMIUM     the browser (default /usr/bin/chromium)
import { basename } from "node:path";
import { chromium } from "playwright-core";

const env = process.env;
for (const name of ["GATEWAY_URL", "PROXY_URL", "GATEWAY_PID", "SINGLE", "GROUP", "NOT_A_PHOTO", "TOO_LARGE", "SHOTS"]) {
  if (!env[name]) {
    console.error(`upload_page.mjs: ${name} is not set`);
    process.exit(2);
  }
}

const failures = [];
function check(condition, message) {
  if (!condition) failures.push(message);
  console.log(`${condition ? "ok  " : "FAIL"} ${message}`);
}

const WAIT = 60000;
const browser = await chromium.launch({
  executablePath: env.CHROMIUM || "/usr/bin/chromium",
  // Root in CI has no user namespace for Chromium's sandbox.
  args: ["--no-sandbox"],
});

// A page that records what a person would never see but should never happen:
// uncaught script errors and missing files.
async function open(options = {}, url = env.GATEWAY_URL) {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, ...options });
  const page = await context.newPage();
  page.problems = [];
  page.predictRequests = 0;
  page.on("pageerror", (e) => page.problems.push(`uncaught: ${e.message}`));
  page.on("request", (r) => {
    if (r.method() === "POST" && r.url().endsWith("/predict")) page.predictRequests += 1;
  });
  page.on("response", (r) => {
    if (r.request().method() === "GET" && r.status() >= 400) page.problems.push(`${r.status()} for ${r.url()}`);
  });
  await page.goto(url);
  return page;
}

async function settled(page) {
  await page.waitForFunction(() => {
    const status = document.getElementById("status");
    return status.textContent !== "" && !status.classList.contains("busy");
  }, null, { timeout: WAIT });
}

async function answerOf(page) {
  return JSON.parse(await page.locator("#json").textContent());
}

function rect(r) {
  return { left: r.x, top: r.y, right: r.x + r.width, bottom: r.y + r.height };
}

function overlapping(a, b) {
  return a.left < b.right - 0.5 && b.left < a.right - 0.5 && a.top < b.bottom - 0.5 && b.top < a.bottom - 0.5;
}

// Every box where the JSON says, every badge inside the photo and clear of
// the others, one list entry per face. Where faces are not crowded, every
// face has its badge.
async function checkBoxes(page, label, { crowded = false } = {}) {
  const answer = await answerOf(page);
  const faces = answer.faces;
  const photo = await page.locator("#photo").boundingBox();
  const boxes = page.locator("#boxes .box");
  const badges = page.locator("#boxes .badge");
  check((await boxes.count()) === faces.length, `${label}: ${faces.length} boxes for ${faces.length} faces`);
  const badgeCount = await badges.count();
  check(crowded ? badgeCount <= faces.length : badgeCount === faces.length, `${label}: ${badgeCount} badges for ${faces.length} faces`);
  check((await page.locator("#faces li").count()) === faces.length, `${label}: one list entry per face`);
  let worst = 0;
  for (const [i, face] of faces.entries()) {
    const shown = await boxes.nth(i).boundingBox();
    const sx = photo.width / answer.width;
    const sy = photo.height / answer.height;
    const expected = [photo.x + face.box[0] * sx, photo.y + face.box[1] * sy, photo.x + face.box[2] * sx, photo.y + face.box[3] * sy];
    const actual = [shown.x, shown.y, shown.x + shown.width, shown.y + shown.height];
    worst = Math.max(worst, ...expected.map((e, k) => Math.abs(e - actual[k])));
  }
  check(worst <= 1.5, `${label}: boxes within 1.5 px of the answer's (worst ${worst.toFixed(2)} px)`);
  const stage = rect(await page.locator("#stage").boundingBox());
  const placed = [];
  for (let i = 0; i < badgeCount; i++) {
    placed.push(rect(await badges.nth(i).boundingBox()));
  }
  check(placed.every((b) => b.left >= stage.left - 0.5 && b.right <= stage.right + 0.5 && b.top >= stage.top - 0.5 && b.bottom <= stage.bottom + 0.5),
    `${label}: every badge inside the photo`);
  const clashes = placed.flatMap((a, i) => placed.slice(i + 1).filter((b) => overlapping(a, b)).map(() => i));
  check(clashes.length === 0, `${label}: no badge covers another (${clashes.length} overlaps)`);
  if (faces.length > 0) {
    const size = await badges.first().evaluate((b) => parseFloat(getComputedStyle(b).fontSize));
    check(size >= 12, `${label}: badge text is ${size} px, at least 12`);
  }
  const uncertain = faces.filter((f) => f.uncertain).length;
  const marked = page.locator("#faces li.uncertain");
  check((await marked.count()) === uncertain, `${label}: ${uncertain} uncertain faces named as such in the list`);
  for (let i = 0; i < (await marked.count()); i++) {
    const text = await marked.nth(i).textContent();
    check(/uncertain, leans (female|male)/.test(text), `${label}: an uncertain face says which way it leans (${text})`);
  }
  return answer;
}

try {
  // 1. One face, then a group, in a desktop window.
  {
    const page = await open();
    check((await page.title()) === "GenderLens", "the page loads with its title");
    check(await page.locator('label[for="image"]').count() === 1, "the file input has a label");
    check((await page.locator("#status").getAttribute("aria-live")) === "polite", "the status line is a live region");

    await page.locator("#image").setInputFiles(env.SINGLE);
    check(await page.locator("#classify").isDisabled(), "the button is disabled while a photo is classified");
    check(/^Classifying /.test(await page.locator("#status").textContent()), "the status says the photo is being classified");
    await settled(page);
    const single = await checkBoxes(page, "single face");
    check(single.faces.length === 1, `single face: the answer has one face (${single.faces.length})`);
    const singleName = basename(env.SINGLE).replace(/[.]/g, "\\.");
    check(new RegExp(`^${singleName}: 1 face: 1 (female|male|uncertain)\\.$`).test(await page.locator("#status").textContent()),
      `single face: the status names the photo and summarises the answer (${await page.locator("#status").textContent()})`);
    check(!(await page.locator("#classify").isDisabled()), "the button is enabled again after the answer");
    check(/1 face/.test(await page.locator("#photo").getAttribute("alt")), "the photo's text alternative carries the result");

    // The next photo replaces the last one's at once: its preview, no old boxes.
    const before = await page.locator("#photo").getAttribute("src");
    await page.locator("#image").setInputFiles(env.GROUP);
    check((await page.locator("#boxes .box").count()) === 0, "no old boxes while the next photo is classified");
    check((await page.locator("#photo").getAttribute("src")) !== before, "the new photo's preview replaces the old one at once");
    await settled(page);
    const group = await checkBoxes(page, "group");
    check(group.faces.length >= 3, `group: several faces found (${group.faces.length})`);
    check(!(await page.locator("#raw").getAttribute("open")), "the JSON answer is folded away");
    const height = await page.evaluate(() => document.documentElement.scrollHeight);
    check(height < 2200, `group: the page is ${height} px tall, under 2200`);

    // Hovering a list entry marks its box.
    await page.locator("#faces li").nth(1).hover();
    check(await page.locator("#boxes .box").nth(1).evaluate((b) => b.classList.contains("highlight")), "hovering a face in the list marks its box");
    await page.screenshot({ path: `${env.SHOTS}/desktop-light.png`, fullPage: true });

    // Two quick clicks send one request.
    const sent = page.predictRequests;
    const button = await page.locator("#classify").boundingBox();
    await page.mouse.click(button.x + button.width / 2, button.y + button.height / 2);
    await page.mouse.click(button.x + button.width / 2, button.y + button.height / 2);
    await settled(page);
    check(page.predictRequests - sent === 1, `two quick clicks send one request (${page.predictRequests - sent})`);

    // A photo chosen while another is classified replaces it: the newer
    // one's answer is shown, never the older one's.
    // The group, slower to classify, goes first: its answer must not win.
    await page.locator("#image").setInputFiles(env.GROUP);
    await page.locator("#image").setInputFiles(env.SINGLE);
    await settled(page);
    await page.waitForTimeout(1500);
    const replaced = await answerOf(page);
    check(replaced.faces.length === 1, `a photo chosen mid-way replaces the one being classified (${replaced.faces.length} faces shown)`);
    check((await page.locator("#status").textContent()).startsWith(`${basename(env.SINGLE)}:`), "the status names the newer photo");

    // A file that is not a photo: a clear error and nothing left of the last photo.
    await page.locator("#image").setInputFiles(env.NOT_A_PHOTO);
    await settled(page);
    const status = page.locator("#status");
    check(await status.evaluate((s) => s.classList.contains("error")), "bad file: the status is an error");
    check((await status.getAttribute("role")) === "alert", "bad file: the error is announced");
    check(/was not classified: /.test(await status.textContent()), `bad file: the server's reason is shown (${await status.textContent()})`);
    check(await page.locator("#result").isHidden(), "bad file: the previous photo and boxes are gone");
    check(!(await page.locator("#classify").isDisabled()), "bad file: the button is enabled again");

    // Choosing the same file again is a new try.
    const before2 = page.predictRequests;
    const chooser = page.waitForEvent("filechooser");
    await page.locator("#image").click();
    await (await chooser).setFiles(env.NOT_A_PHOTO);
    await settled(page);
    check(page.predictRequests - before2 === 1, "choosing the same file again sends it again");

    // Over the server's limit: refused at once, nothing sent.
    const before3 = page.predictRequests;
    await page.locator("#image").setInputFiles(env.TOO_LARGE);
    await settled(page);
    const tooLarge = await page.locator("#status").textContent();
    check(/MB; this server takes photos up to 20\.0 MB|MB; this server takes photos up to 20 MB/.test(tooLarge), `too large: refused with both sizes (${tooLarge})`);
    check(page.predictRequests === before3, "too large: nothing is sent");

    // A dropped file that is not a photo clears the last result too.
    await page.locator("#image").setInputFiles(env.SINGLE);
    await settled(page);
    await page.evaluate(() => {
      const files = new DataTransfer();
      files.items.add(new File(["%PDF-1.4"], "doc.pdf", { type: "application/pdf" }));
      document.body.dispatchEvent(new DragEvent("drop", { dataTransfer: files, bubbles: true, cancelable: true }));
    });
    check(/not a photo/.test(await page.locator("#status").textContent()), "a dropped PDF is refused");
    check(await page.locator("#result").isHidden(), "a refused drop leaves no old result on screen");

    // A browser that opens /predict itself gets a page, not raw JSON.
    await page.goto(`${env.GATEWAY_URL}predict`);
    check(/does not serve that request \(405\)/.test(await page.locator("#status").textContent()), "GET /predict in a browser is a page that explains");
    page.problems = page.problems.filter((p) => !p.startsWith("405 "));
    check(page.problems.length === 0, `desktop: no script errors or missing files (${page.problems.join("; ")})`);
    await page.context().close();
  }

  // 2. The keyboard alone.
  {
    const page = await open();
    // Asked for early: the browser takes a moment to start handing its
    // file chooser to the test, and a key pressed before then opens none.
    const chooser = page.waitForEvent("filechooser", { timeout: 10000 }).catch(() => null);
    await page.keyboard.press("Tab");
    check(await page.evaluate(() => document.activeElement.id) === "image", "Tab reaches the file input first");
    await page.keyboard.press("Space");
    let fileChooser = await chooser;
    if (fileChooser === null) {
      console.log("note: the first Space opened no chooser the test could see; pressing it again");
      const again = page.waitForEvent("filechooser", { timeout: WAIT });
      await page.keyboard.press("Space");
      fileChooser = await again;
    }
    await fileChooser.setFiles(env.GROUP);
    await settled(page);
    await page.keyboard.press("Tab");
    check(await page.evaluate(() => document.activeElement.id) === "classify", "Tab then reaches the button");
    await page.keyboard.press("Tab");
    check(await page.evaluate(() => document.activeElement.closest("#faces") !== null), "Tab then reaches the list of faces");
    check(await page.locator("#boxes .box").first().evaluate((b) => b.classList.contains("highlight")), "a focused face marks its box");
    await page.keyboard.press("Shift+Tab");
    const sent = page.predictRequests;
    await page.keyboard.press("Enter");
    await settled(page);
    check(page.predictRequests - sent === 1, "Enter on the button classifies again");
    check(await page.evaluate(() => document.activeElement.id) === "classify", "focus stays on the button after it classified");
    check(page.problems.length === 0, `keyboard: no script errors (${page.problems.join("; ")})`);
    await page.context().close();
  }

  // 3. A phone, in the dark scheme.
  {
    const page = await open({ viewport: { width: 390, height: 844 }, deviceScaleFactor: 3, isMobile: true, hasTouch: true, colorScheme: "dark" });
    await page.locator("#image").setInputFiles(env.GROUP);
    await settled(page);
    await checkBoxes(page, "phone", { crowded: true });
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
    check(overflow <= 0, `phone: nothing wider than the screen (${overflow} px over)`);
    const colours = await page.evaluate(() => {
      const luminance = (css) => {
        const [r, g, b] = css.match(/\d+(\.\d+)?/g).slice(0, 3).map(Number);
        return (0.2126 * r + 0.7152 * g + 0.0722 * b) / 255;
      };
      const body = getComputedStyle(document.body);
      return { background: luminance(body.backgroundColor), text: luminance(body.color) };
    });
    check(colours.background < 0.2 && colours.text > 0.7, `dark scheme: light text on a dark page (${JSON.stringify(colours)})`);
    await page.screenshot({ path: `${env.SHOTS}/phone-dark.png`, fullPage: true });
    check(page.problems.length === 0, `phone: no script errors (${page.problems.join("; ")})`);
    await page.context().close();
  }

  // 4. Without JavaScript the form still classifies, as a page.
  {
    const page = await open({ javaScriptEnabled: false });
    await page.locator("#image").setInputFiles(env.GROUP);
    await Promise.all([page.waitForURL(/\/predict$/, { timeout: WAIT }), page.locator("#classify").click()]);
    const rows = await page.locator("#faces tbody tr").count();
    check(rows >= 3, `no JavaScript: the answer is a page listing ${rows} faces`);
    check(/faces: /.test(await page.locator("#status").textContent()), "no JavaScript: the page summarises the answer");
    await page.goto(env.GATEWAY_URL);
    await page.locator("#image").setInputFiles(env.NOT_A_PHOTO);
    await Promise.all([page.waitForURL(/\/predict$/, { timeout: WAIT }), page.locator("#classify").click()]);
    check(/not classified/.test(await page.locator("#status").textContent()), "no JavaScript: a bad file gets an error page");
    await page.context().close();
  }

  // 5. A proxy whose classifier is down answers with its own HTML 502.
  {
    const page = await open({}, env.PROXY_URL);
    await page.locator("#image").setInputFiles(env.SINGLE);
    await settled(page);
    const status = await page.locator("#status").textContent();
    check(/502.*instead of a result/.test(status), `proxy 502: a clear error (${status})`);
    check(await page.locator("#result").isHidden(), "proxy 502: no photo left on screen");
    check(!(await page.locator("#classify").isDisabled()), "proxy 502: the button is enabled again");
    check(page.problems.length === 0, `proxy 502: no script errors (${page.problems.join("; ")})`);
    await page.context().close();
  }

  // 6. The gateway goes away after the page has loaded.
  {
    const page = await open();
    process.kill(Number(env.GATEWAY_PID), "SIGKILL");
    await page.locator("#image").setInputFiles(env.SINGLE);
    await settled(page);
    const status = await page.locator("#status").textContent();
    check(/Could not reach the server/.test(status), `server down: a clear error (${status})`);
    check(!(await page.locator("#classify").isDisabled()), "server down: the button is enabled again");
    check(page.problems.length === 0, `server down: no script errors (${page.problems.join("; ")})`);
    await page.context().close();
  }
} catch (e) {
  failures.push(`the run stopped: ${e.stack || e}`);
  console.log(`FAIL ${e.stack || e}`);
} finally {
  await browser.close();
}

if (failures.length > 0) {
  console.log(`\n${failures.length} check(s) failed`);
  process.exit(1);
}
console.log("\nall checks passed");
