// Drives Debian's Chromium through chromedriver (WebDriver over HTTP, with Node's own fetch:
// no npm packages) on a page of `chainrule graph --format html`.
//   node page.mjs PAGE.html VARIABLE SCREENSHOT.png   -> JSON on stdout: what hover and click showed
//   node page.mjs PAGE.html --timing                  -> JSON: milliseconds until the page is ready
import { spawn } from "node:child_process";
import { writeFileSync } from "node:fs";
import { pathToFileURL } from "node:url";

const [page, variable, shot] = process.argv.slice(2);
const port = 9515 + Math.floor(Math.random() * 400);
const driver = spawn(process.env.CHROMEDRIVER || "chromedriver", [`--port=${port}`], { stdio: "ignore" });
const base = `http://127.0.0.1:${port}`;

async function call(method, path, body) {
  const r = await fetch(base + path, { method, headers: { "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body) });
  const v = await r.json();
  if (!r.ok) throw new Error(`${method} ${path}: ${JSON.stringify(v)}`);
  return v.value;
}

async function main() {
  for (let i = 0; ; i++) {
    try { await call("GET", "/status"); break; } catch (e) {
      if (i > 100) throw new Error("chromedriver did not start");
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  const caps = { capabilities: { alwaysMatch: { "goog:chromeOptions": {
    binary: process.env.CHROMIUM || "/usr/bin/chromium",
    args: ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--window-size=1400,900"] } } } };
  const session = await call("POST", "/session", caps);
  const s = `/session/${session.sessionId}`;
  const run = (script, args = []) => call("POST", `${s}/execute/sync`, { script, args });
  try {
    const start = Date.now();
    await call("POST", `${s}/url`, { url: pathToFileURL(page).href });
    const ready = await run("return window.chainrulePage ? window.chainrulePage.ready : null");
    if (variable === "--timing") {
      console.log(JSON.stringify({ ready_ms: ready, wall_ms: Date.now() - start }));
      return;
    }
    const find = async (css) => (await call("POST", `${s}/element`, { using: "css selector", value: css }));
    // Hover the first sigmoid node: the tip shows its subexpression, value and adjoint.
    const centre = await run("var r = document.querySelector('g.node[data-label=\"sigmoid\"] rect').getBoundingClientRect();" +
      " return [Math.round(r.x + r.width / 2), Math.round(r.y + r.height / 2)];");
    await call("POST", `${s}/actions`, { actions: [{ type: "pointer", id: "mouse", parameters: { pointerType: "mouse" },
      actions: [{ type: "pointerMove", duration: 0, origin: "viewport", x: centre[0], y: centre[1] }] }] });
    const tip = await run("var t = document.getElementById('tip'); return [t.style.display, t.textContent];");
    // Click the variable: the edges on its paths to the result light up.
    const v = await find(`g.node[data-label="${variable}"]`);
    await call("POST", `${s}/element/${Object.values(v)[0]}/click`, {});
    const lit = await run("return Array.from(document.querySelectorAll('line.edge.path')).map(e => [+e.dataset.a, +e.dataset.b]);");
    const status = await run("return document.getElementById('status').textContent;");
    writeFileSync(shot, Buffer.from(await call("GET", `${s}/screenshot`), "base64"));
    console.log(JSON.stringify({ ready_ms: ready, tip_display: tip[0], tip: tip[1], lit, status }));
  } finally {
    await call("DELETE", s).catch(() => {});
  }
}

main().then(() => { driver.kill(); }, (e) => { console.error(String(e.stack || e)); driver.kill(); process.exit(1); });
