// Headless Chromium test of the web chat: the real widget and web chat channel, served by fake_rasa.py
// (a scripted bot in place of the trained assistant). Run with tests/browser/run.sh.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";

const HERE = path.dirname(fileURLToPath(import.meta.url));
const ROOT = path.resolve(HERE, "..", "..");
const PYTHON = process.env.QAID_RASA_PYTHON || path.join(ROOT, ".venv-rasa", "bin", "python");
const CHROMIUM = process.env.CHROMIUM_PATH || "/usr/bin/chromium";
const CHROMIUM_FLAGS = [
  "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
  "--disable-component-update", "--disable-sync", "--no-first-run",
];
const TIMEOUT_MS = 15000;

let server;
let serverInfo;
let browser;
let varDir;

function freePort() {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once("error", reject);
    probe.listen(0, "127.0.0.1", () => {
      const { port } = probe.address();
      probe.close(() => resolve(port));
    });
  });
}

function startFakeRasa(port) {
  return new Promise((resolve, reject) => {
    const child = spawn(PYTHON, [path.join(HERE, "fake_rasa.py"), "--port", String(port), "--var-dir", varDir], {
      cwd: ROOT,
      env: { ...process.env, PYTHONPATH: ROOT },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let output = "";
    const timer = setTimeout(() => reject(new Error(`fake Rasa server did not start:\n${output}`)), 90000);
    const onData = (chunk) => {
      output += chunk.toString();
      const match = output.match(/^READY (.+)$/m);
      if (match) {
        clearTimeout(timer);
        resolve({ child, info: JSON.parse(match[1]) });
      }
    };
    child.stdout.on("data", onData);
    child.stderr.on("data", (chunk) => { output += chunk.toString(); });
    child.on("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`fake Rasa server exited with ${code}:\n${output}`));
    });
  });
}

async function received() {
  const resp = await fetch(`${serverInfo.url}/__received`);
  return resp.json();
}

async function openChat(context) {
  const page = await context.newPage();
  page.setDefaultTimeout(TIMEOUT_MS);
  await page.goto(`${serverInfo.url}/webhooks/webchat/`);
  await page.locator("textarea.input").waitFor();
  return page;
}

function botMessage(page, text) {
  return page.locator(".msg.bot", { hasText: text });
}

async function imageLoaded(locator) {
  await locator.waitFor();
  return locator.evaluate((img) => img.complete && img.naturalWidth > 0);
}

// A File built inside the page (for drag-and-drop and paste, which need a DataTransfer).
async function dispatchFileEvent(page, kind) {
  await page.evaluate(async (eventKind) => {
    const canvas = document.createElement("canvas");
    canvas.width = 64;
    canvas.height = 64;
    const ctx = canvas.getContext("2d");
    ctx.fillStyle = "#777";
    ctx.fillRect(0, 0, 64, 64);
    const blob = await new Promise((resolve) => canvas.toBlob(resolve, "image/png"));
    const transfer = new DataTransfer();
    transfer.items.add(new File([blob], `${eventKind}.png`, { type: "image/png" }));
    const root = document.querySelector(".qaid-webchat-host").shadowRoot;
    if (eventKind === "dragenter" || eventKind === "drop") {
      const panel = root.querySelector(".panel");
      panel.dispatchEvent(new DragEvent(eventKind, { dataTransfer: transfer, bubbles: true, cancelable: true }));
    } else {
      const input = root.querySelector("textarea.input");
      input.dispatchEvent(new ClipboardEvent("paste", { clipboardData: transfer, bubbles: true, cancelable: true }));
    }
  }, kind);
}

before(async () => {
  varDir = mkdtempSync(path.join(tmpdir(), "qaid-webchat-"));
  const started = await startFakeRasa(await freePort());
  server = started.child;
  serverInfo = started.info;
  browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_FLAGS });
});

after(async () => {
  if (browser) await browser.close();
  if (server) {
    server.removeAllListeners("exit");
    server.kill("SIGTERM");
  }
  if (varDir) rmSync(varDir, { recursive: true, force: true });
});

test("upload an image, ask a question, see the answer and the overlay; survives a reload", async () => {
  const context = await browser.newContext({ viewport: { width: 1200, height: 900 } });
  const page = await openChat(context);

  assert.equal(await page.locator(".dropzone").isVisible(), false);
  assert.equal(await page.locator(".typing").isVisible(), false);
  await page.locator("input.file").setInputFiles(serverInfo.image);
  const preview = page.locator(".attachment img");
  await preview.waitFor();
  assert.match(await preview.getAttribute("src"), /^blob:/);
  assert.match(await page.locator(".attachment .name").textContent(), /scan\.png/);

  await page.evaluate(() => {
    const bar = document.querySelector(".qaid-webchat-host").shadowRoot.querySelector(".progress");
    window.progressSeen = [];
    new MutationObserver(() => window.progressSeen.push(bar.getAttribute("aria-valuenow")))
      .observe(bar, { attributes: true, attributeFilter: ["aria-valuenow"] });
  });
  await page.locator("textarea.input").fill("Where is the lesion?");
  await page.locator("textarea.input").press("Enter");

  await botMessage(page, "Canned answer: the lesion is in the left frontal lobe.").waitFor();
  assert.equal((await page.evaluate(() => window.progressSeen)).at(-1), "100", "upload progress reached 100%");
  assert.ok(await imageLoaded(page.locator(".msg.bot img")), "the overlay image is displayed");
  assert.ok(await imageLoaded(page.locator(".msg.user img")), "the user's own image is shown in the chat");
  assert.equal(await page.locator(".attachment").isHidden(), true);

  // an image with a caption reaches the bot as the image, then the caption as a question about it
  const [imageMessage, last] = (await received()).slice(-2);
  assert.equal(imageMessage.text, "/send_image");
  assert.equal(imageMessage.metadata.image.channel, "webchat");
  assert.equal(imageMessage.metadata.image.media_type, "image/png");
  assert.match(imageMessage.metadata.image.path, /^media\/[0-9a-f]{64}\.png$/);
  assert.equal(last.text, "Where is the lesion?");
  assert.equal(last.metadata.image, undefined);

  const sender = await page.evaluate(() => window.QAidWebChat.senderId());
  assert.equal(last.sender, "webchat:" + sender);
  await page.reload();
  await botMessage(page, "Canned answer").waitFor();
  assert.equal(await page.evaluate(() => window.QAidWebChat.senderId()), sender);
  assert.ok(await imageLoaded(page.locator(".msg.bot img")), "the overlay is shown again after reload");
  assert.equal(await page.locator(".msg.user", { hasText: "Where is the lesion?" }).count(), 1);

  await page.locator(".buttons button", { hasText: "Yes" }).click();
  await botMessage(page, "You chose /affirm").waitFor();
  assert.equal((await received()).at(-1).text, "/affirm");
  assert.equal(await page.locator(".buttons button", { hasText: "No" }).isDisabled(), true);

  // "delete my data": the browser forgets the conversation too, keeping only the confirmation.
  await page.locator("textarea.input").fill("delete my data");
  await page.locator("textarea.input").press("Enter");
  await botMessage(page, "Done: your data is deleted.").waitFor();
  assert.notEqual(await page.evaluate(() => window.QAidWebChat.senderId()), sender);
  assert.equal(await page.locator(".msg.user").count(), 0);
  await page.reload();
  await botMessage(page, "Done: your data is deleted.").waitFor();
  assert.equal(await page.locator(".msg").count(), 1, "only the confirmation survives a reload");
  const stored = await page.evaluate(() => JSON.stringify(Object.assign({}, window.localStorage)));
  assert.ok(!stored.includes("lesion") && !stored.includes("scan.png"), stored);
  await context.close();
});

test("drag-and-drop and paste attach images; keyboard removes an attachment", async () => {
  const context = await browser.newContext();
  const page = await openChat(context);

  const dropzone = page.locator(".dropzone");
  assert.equal(await dropzone.isVisible(), false);
  await dispatchFileEvent(page, "dragenter");
  await dropzone.waitFor({ state: "visible" });
  await dispatchFileEvent(page, "drop");
  await dropzone.waitFor({ state: "hidden" });
  await page.locator(".attachment .name", { hasText: "drop.png" }).waitFor();
  await page.locator("button.send").click();
  await botMessage(page, "I received your image (image/png).").waitFor();
  const dropped = (await received()).at(-1);
  assert.equal(dropped.text, "/send_image");
  assert.equal(dropped.metadata.image.filename, "drop.png");

  await dispatchFileEvent(page, "paste");
  await page.locator(".attachment .name", { hasText: "paste.png" }).waitFor();
  await page.locator("button.remove").focus();
  await page.keyboard.press("Enter");
  await page.locator(".attachment").waitFor({ state: "hidden" });
  await context.close();
});

test("files are checked: too large in the browser, not an image on the server", async () => {
  const context = await browser.newContext();
  const page = await openChat(context);

  await page.locator("input.file").setInputFiles({
    name: "huge.png", mimeType: "image/png", buffer: Buffer.alloc(21 * 1024 * 1024),
  });
  await page.locator(".error", { hasText: "larger than 20 MB" }).waitFor();
  assert.equal(await page.locator(".attachment").isHidden(), true);

  await page.locator("input.file").setInputFiles({
    name: "notes.png", mimeType: "image/png", buffer: Buffer.from("these are my notes, not an image"),
  });
  await page.locator("button.send").click();
  await botMessage(page, "not an image I can read").waitFor();
  assert.equal((await received()).at(-1).metadata.image_error.code, "not_an_image");
  await context.close();
});

test("embedded widget: one script tag, keyboard only, full screen on a phone", async () => {
  const context = await browser.newContext({ viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true });
  const page = await context.newPage();
  page.setDefaultTimeout(TIMEOUT_MS);
  await page.goto(`${serverInfo.url}/embed.html`);
  const launcher = page.locator("button.launcher");
  await launcher.waitFor();
  assert.equal(await launcher.getAttribute("aria-label"), "Open the Ask Q&Aid chat");

  await launcher.focus();
  await page.keyboard.press("Enter");
  const panel = page.locator("section.panel");
  await panel.waitFor();
  assert.equal(await launcher.getAttribute("aria-expanded"), "true");
  const box = await panel.boundingBox();
  assert.equal(Math.round(box.width), 390);

  await page.keyboard.type("hello there");
  await page.keyboard.press("Enter");
  await botMessage(page, "Canned answer").waitFor();
  assert.ok(await imageLoaded(page.locator(".msg.bot img")));

  await page.keyboard.press("Escape");
  await panel.waitFor({ state: "hidden" });
  assert.equal(await page.evaluate(() => document.activeElement.className), "qaid-webchat-host");
  await context.close();
});
