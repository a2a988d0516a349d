// The Embedding map on a 2-D canvas (dashboard/map_canvas.py). Every point and every colouring arrive once per
// token; colouring, zoom, hover and selection run here. Only a colour button (setStateValue "colour") and a
// finished selection (setStateValue "selection": {ids: ["<set>:<row>", ...], seq}) go back to the server.
const VIRIDIS = ["#440154", "#482878", "#3e4989", "#31688e", "#26828e", "#1f9e89", "#35b779", "#6ece58",
                 "#b5de2b", "#fde725"];
const BUCKETS = 48, HEIGHT = 600, PAD = 0.03;

function decode(b64, Type) {
  const bin = atob(b64 || ""), bytes = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i);
  return new Type(bytes.buffer);
}
function hex(c) { return [1, 3, 5].map((i) => parseInt(c.slice(i, i + 2), 16)); }
function viridis(t) {  // t in [0, 1] -> "rgb(...)", linear between the ten stops
  const f = Math.min(Math.max(t, 0), 1) * (VIRIDIS.length - 1), i = Math.min(Math.floor(f), VIRIDIS.length - 2);
  const a = hex(VIRIDIS[i]), b = hex(VIRIDIS[i + 1]), u = f - i;
  return `rgb(${a.map((v, k) => Math.round(v + (b[k] - v) * u)).join(",")})`;
}

function prepare(d) {  // typed arrays, ids, and per colouring its drawing layers (style + point indices)
  const p = { n: d.n, x: decode(d.x, Float32Array), y: decode(d.y, Float32Array), set: decode(d.set, Uint8Array),
              row: decode(d.row, Int32Array), kind: decode(d.kind, Uint8Array), tru: decode(d.true, Int8Array),
              pred: decode(d.pred, Uint8Array), conf: decode(d.confidence, Float32Array), layers: {}, values: {} };
  p.ids = Array.from(p.row, (r, i) => `${d.sets[p.set[i]]}:${r}`);
  p.index = new Map(p.ids.map((id, i) => [id, i]));
  let x0 = Infinity, x1 = -Infinity, y0 = Infinity, y1 = -Infinity;
  for (let i = 0; i < p.n; i++) {
    x0 = Math.min(x0, p.x[i]); x1 = Math.max(x1, p.x[i]); y0 = Math.min(y0, p.y[i]); y1 = Math.max(y1, p.y[i]);
  }
  for (const s of d.star ? [d.star] : []) { x0 = Math.min(x0, s[0]); x1 = Math.max(x1, s[0]); y0 = Math.min(y0, s[1]); y1 = Math.max(y1, s[1]); }
  if (!(x1 > x0)) { x0 -= 1; x1 += 1; }
  if (!(y1 > y0)) { y0 -= 1; y1 += 1; }
  const px = (x1 - x0) * PAD, py = (y1 - y0) * PAD;
  p.extent = [x0 - px, x1 + px, y0 - py, y1 + py];
  for (const [name, c] of Object.entries(d.continuous)) {  // buckets by value, most uncertain drawn last
    const v = decode(c.values, Float32Array), of = Array.from({ length: BUCKETS }, () => []);
    for (let i = 0; i < p.n; i++) {
      const b = Math.floor((v[i] / c.cmax) * BUCKETS);
      of[Number.isFinite(b) ? Math.min(BUCKETS - 1, Math.max(0, b)) : 0].push(i);
    }
    p.values[name] = v;
    p.layers[name] = of.map((idx, b) => ({ colour: viridis((b + 0.5) / BUCKETS), idx, faint: false }));
  }
  for (const [name, g] of Object.entries(d.groups)) {
    const code = decode(g.of, Uint8Array), of = g.names.map(() => []);
    for (let i = 0; i < p.n; i++) of[code[i]].push(i);
    p.layers[name] = of.map((idx, k) => ({ colour: g.colours[k], idx, faint: g.names[k] === "no label (OOD)",
                                           name: g.names[k] }));
  }
  return p;
}

function toScreen(st) {  // data -> CSS pixels of the current view
  const [x0, x1, y0, y1] = st.view, w = st.w, h = st.h, p = st.p;
  st.sx = new Float32Array(p.n); st.sy = new Float32Array(p.n);
  const kx = w / (x1 - x0), ky = h / (y1 - y0);
  for (let i = 0; i < p.n; i++) { st.sx[i] = (p.x[i] - x0) * kx; st.sy[i] = h - (p.y[i] - y0) * ky; }
  st.fx = (x) => (x - x0) * kx; st.fy = (y) => h - (y - y0) * ky;
}

function shapes(ctx, st, idx, r) {  // circles filled; crosses stroked; diamonds filled, in three batched paths
  const { sx, sy, p } = st;
  ctx.beginPath();
  for (const i of idx) if (p.kind[i] === 0) { ctx.moveTo(sx[i] + r, sy[i]); ctx.arc(sx[i], sy[i], r, 0, 6.2832); }
  ctx.fill();
  ctx.beginPath();
  const q = r * 1.7;
  for (const i of idx) if (p.kind[i] === 2) {
    ctx.moveTo(sx[i], sy[i] - q); ctx.lineTo(sx[i] + q, sy[i]); ctx.lineTo(sx[i], sy[i] + q); ctx.lineTo(sx[i] - q, sy[i]);
    ctx.closePath();
  }
  ctx.fill();
  ctx.beginPath();
  const c = r * 1.5;
  for (const i of idx) if (p.kind[i] === 1) {
    ctx.moveTo(sx[i] - c, sy[i] - c); ctx.lineTo(sx[i] + c, sy[i] + c); ctx.moveTo(sx[i] + c, sy[i] - c); ctx.lineTo(sx[i] - c, sy[i] + c);
  }
  ctx.lineWidth = 1.8; ctx.stroke();
}

function draw(st) {
  const { ctx, p, d } = st, dpr = window.devicePixelRatio || 1;
  ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
  ctx.clearRect(0, 0, st.w, st.h);
  ctx.fillStyle = "#fff"; ctx.fillRect(0, 0, st.w, st.h);
  const layers = p.layers[st.colour] || [], sel = st.selected;
  for (const pass of sel.size ? [false, true] : [null]) {  // with a selection: the rest faded, then the selection
    for (const L of layers) {
      const idx = pass === null ? L.idx : L.idx.filter((i) => sel.has(i) === pass);
      if (!idx.length) continue;
      ctx.globalAlpha = pass === false ? 0.12 : L.faint ? 0.45 : 0.8;
      ctx.fillStyle = ctx.strokeStyle = L.colour;
      shapes(ctx, st, idx, L.faint ? 2 : 2.6);
    }
  }
  ctx.globalAlpha = 1;
  if (st.labels) {
    ctx.font = "bold 24px 'Source Sans Pro', sans-serif"; ctx.textAlign = "center"; ctx.textBaseline = "middle";
    for (const [digit, x, y] of d.centres) {
      const cx = st.fx(x), cy = st.fy(y);
      ctx.fillStyle = "rgba(255,255,255,0.82)"; ctx.fillRect(cx - 12, cy - 15, 24, 30);
      ctx.fillStyle = "#111"; ctx.fillText(String(digit), cx, cy + 1);
    }
  }
  if (d.star) {
    const cx = st.fx(d.star[0]), cy = st.fy(d.star[1]);
    ctx.beginPath();
    for (let k = 0; k < 10; k++) {
      const a = -Math.PI / 2 + (k * Math.PI) / 5, r = k % 2 ? 6 : 15;
      ctx.lineTo(cx + r * Math.cos(a), cy + r * Math.sin(a));
    }
    ctx.closePath(); ctx.fillStyle = "#F0E442"; ctx.fill(); ctx.lineWidth = 2; ctx.strokeStyle = "#000"; ctx.stroke();
  }
  if (st.drag && st.drag.path.length > 1) {  // the lasso or box being drawn
    ctx.beginPath();
    const path = st.mode === "box" ? boxPath(st.drag.path) : st.drag.path;
    path.forEach(([x, y], k) => (k ? ctx.lineTo(x, y) : ctx.moveTo(x, y)));
    ctx.closePath(); ctx.fillStyle = "rgba(31,119,180,0.08)"; ctx.fill();
    ctx.setLineDash([5, 4]); ctx.lineWidth = 1.5; ctx.strokeStyle = "#1f77b4"; ctx.stroke(); ctx.setLineDash([]);
  }
  st.root.dataset.colour = st.colour;
  st.root.dataset.selected = String(sel.size);
  st.root.dataset.draws = String((Number(st.root.dataset.draws) || 0) + 1);
}

function boxPath(path) {
  const [a, b] = [path[0], path[path.length - 1]];
  return [[a[0], a[1]], [b[0], a[1]], [b[0], b[1]], [a[0], b[1]]];
}

function inside(poly, x, y) {  // ray casting
  let hit = false;
  for (let i = 0, j = poly.length - 1; i < poly.length; j = i++) {
    const [xi, yi] = poly[i], [xj, yj] = poly[j];
    if ((yi > y) !== (yj > y) && x < ((xj - xi) * (y - yi)) / (yj - yi) + xi) hit = !hit;
  }
  return hit;
}

function nearest(st, x, y, within = 9) {
  let best = -1, bd = within * within;
  for (let i = 0; i < st.p.n; i++) {
    const dx = st.sx[i] - x, dy = st.sy[i] - y, dd = dx * dx + dy * dy;
    if (dd < bd) { bd = dd; best = i; }
  }
  return best;
}

function legend(st) {
  const el = st.root.querySelector(".legend"), d = st.d;
  let html = "";
  if (d.continuous[st.colour]) {
    const c = d.continuous[st.colour], stops = VIRIDIS.map((v, k) => `${v} ${(100 * k) / 9}%`).join(",");
    html += `<span>${st.colour} uncertainty (nats): 0<span class="ramp" style="background:linear-gradient(90deg,${stops})">` +
            `</span>${c.cmax.toFixed(2)} or more</span>`;
  } else if (d.groups[st.colour]) {
    const g = d.groups[st.colour];
    g.names.forEach((name, k) => { if (st.p.layers[st.colour][k].idx.length)
      html += `<span><i class="sw" style="background:${g.colours[k]}"></i>${name}</span>`; });
  }
  el.innerHTML = html;
}

function setColour(st, colour, tell) {
  st.colour = colour;
  st.root.querySelectorAll(".colours button").forEach((b) => b.classList.toggle("on", b.dataset.colour === colour));
  legend(st); draw(st);
  if (tell) st.setStateValue("colour", colour);
}

function setMode(st, mode) {
  st.mode = mode;
  st.root.querySelectorAll(".modes button").forEach((b) => b.classList.toggle("on", b.dataset.mode === mode));
  st.canvas.classList.toggle("pan", mode === "pan");
}

function select(st, indices) {
  st.selected = new Set(indices);
  draw(st);
  st.sent = (st.sent || 0) + 1;  // a sequence number: the same ids sent again (after "Clear") still count
  st.setStateValue("selection", { ids: Array.from(st.selected, (i) => st.p.ids[i]), seq: st.sent });
}

function resize(st) {
  const dpr = window.devicePixelRatio || 1, w = st.canvas.clientWidth || 800;
  st.w = w; st.h = HEIGHT;
  st.canvas.width = Math.round(w * dpr); st.canvas.height = Math.round(HEIGHT * dpr);
  toScreen(st); draw(st);
}

function local(st, e) { const r = st.canvas.getBoundingClientRect(); return [e.clientX - r.left, e.clientY - r.top]; }

function tip(st, i, x, y) {
  const t = st.root.querySelector(".tip"), p = st.p, d = st.d;
  if (i < 0) { t.hidden = true; return; }
  const tv = p.tru[i] >= 0 ? p.tru[i] : "none", v = (k) => st.p.values[k][i].toFixed(3);
  t.innerHTML = `<b>${d.set_names[p.set[i]]} #${p.row[i]}</b>: true ${tv} · read ${p.pred[i]} · ` +
    `${Math.round(p.conf[i] * 100)}% sure<br>total ${v("total")} = aleatoric ${v("aleatoric")} + epistemic ${v("epistemic")}`;
  t.hidden = false;
  t.style.left = `${Math.min(x + 14, st.w - t.offsetWidth - 4)}px`;
  t.style.top = `${y + 14 > st.h - 50 ? y - 50 : y + 14}px`;
}

function wire(st) {
  const c = st.canvas;
  st.root.querySelectorAll(".modes button").forEach((b) => b.addEventListener("click", () => setMode(st, b.dataset.mode)));
  st.root.querySelector(".reset").addEventListener("click", () => { st.view = st.p.extent.slice(); toScreen(st); draw(st); });
  st.root.querySelector(".labels").addEventListener("change", (e) => { st.labels = e.target.checked; draw(st); });
  c.addEventListener("pointerdown", (e) => {
    c.setPointerCapture(e.pointerId);
    st.drag = { path: [local(st, e)], view: st.view.slice() };
    st.root.querySelector(".tip").hidden = true;
  });
  c.addEventListener("pointermove", (e) => {
    const [x, y] = local(st, e);
    if (!st.drag) { if (!st.frame) st.frame = requestAnimationFrame(() => { st.frame = 0; tip(st, nearest(st, x, y), x, y); }); return; }
    if (st.mode === "pan") {
      const [x0, y0] = st.drag.path[0], v = st.drag.view, kx = (v[1] - v[0]) / st.w, ky = (v[3] - v[2]) / st.h;
      st.view = [v[0] - (x - x0) * kx, v[1] - (x - x0) * kx, v[2] + (y - y0) * ky, v[3] + (y - y0) * ky];
      toScreen(st);
    } else st.drag.path.push([x, y]);
    draw(st);
  });
  c.addEventListener("pointerup", (e) => {
    const drag = st.drag; st.drag = null;
    if (!drag) return;
    const [x, y] = local(st, e), [x0, y0] = drag.path[0];
    const moved = drag.path.some(([a, b]) => Math.hypot(a - x0, b - y0) > 4) || Math.hypot(x - x0, y - y0) > 4;
    if (st.mode === "pan") { draw(st); return; }
    if (!moved) {  // a click: the point under it, if any
      const i = nearest(st, x, y);
      if (i >= 0) select(st, [i]); else draw(st);
      return;
    }
    drag.path.push([x, y]);
    const poly = st.mode === "box" ? boxPath(drag.path) : drag.path, hits = [];
    const [bx0, bx1] = [Math.min(...poly.map((q) => q[0])), Math.max(...poly.map((q) => q[0]))];
    const [by0, by1] = [Math.min(...poly.map((q) => q[1])), Math.max(...poly.map((q) => q[1]))];
    for (let i = 0; i < st.p.n; i++) {
      const px = st.sx[i], py = st.sy[i];
      if (px >= bx0 && px <= bx1 && py >= by0 && py <= by1 && (st.mode === "box" || inside(poly, px, py))) hits.push(i);
    }
    select(st, hits);
  });
  c.addEventListener("pointerleave", () => { st.root.querySelector(".tip").hidden = true; });
  c.addEventListener("dblclick", () => select(st, []));
  c.addEventListener("wheel", (e) => {  // zoom about the pointer, only in "Move / zoom" (else the page scrolls)
    if (st.mode !== "pan") return;
    e.preventDefault();
    const [x, y] = local(st, e), v = st.view, f = Math.exp(Math.sign(e.deltaY) * 0.15);
    const dx = v[0] + (x / st.w) * (v[1] - v[0]), dy = v[2] + (1 - y / st.h) * (v[3] - v[2]);
    st.view = [dx + (v[0] - dx) * f, dx + (v[1] - dx) * f, dy + (v[2] - dy) * f, dy + (v[3] - dy) * f];
    toScreen(st); draw(st);
  }, { passive: false });
  new ResizeObserver(() => { if (st.canvas.clientWidth !== st.w) resize(st); }).observe(c);
}

export default function (component) {
  const { data, parentElement, setStateValue } = component;
  const root = parentElement.querySelector(".um");
  let st = root.__um;
  if (!st) {
    st = root.__um = { root, canvas: root.querySelector("canvas"), token: null, mode: "lasso", labels: true,
                       selected: new Set(), serverSelected: null, serverColour: null };
    st.ctx = st.canvas.getContext("2d");
    wire(st);
    setMode(st, "lasso");
  }
  st.setStateValue = setStateValue;
  if (st.token !== data.token) {  // new points: another method, other sets, or a new star
    st.token = data.token; st.d = data; st.p = prepare(data); st.view = st.p.extent.slice();
    const box = root.querySelector(".colours");
    box.innerHTML = "";
    for (const [key, label, help] of data.colourings) {
      const b = document.createElement("button");
      b.dataset.colour = key; b.textContent = label; b.title = help;
      b.addEventListener("click", () => setColour(st, key, true));
      box.appendChild(b);
    }
    root.querySelector(".lbl").style.display = data.centres.length ? "" : "none";
    st.serverSelected = null; st.serverColour = null;
    st.w = 0;
  }
  const sent = JSON.stringify(data.selected);
  let changed = false;
  if (sent !== st.serverSelected) {  // the server's selection changed (a clear button, a new page): follow it
    st.serverSelected = sent; changed = true;
    const next = new Set(data.selected.map((id) => st.p.index.get(id)).filter((i) => i !== undefined));
    changed = next.size !== st.selected.size || [...next].some((i) => !st.selected.has(i));
    st.selected = next;
  }
  if (data.colour !== st.serverColour) {
    st.serverColour = data.colour; changed = changed || st.colour !== data.colour; st.colour = data.colour;
  }
  const fresh = st.w !== st.canvas.clientWidth || !st.sx;  // new points, or a first mount
  if (fresh || changed) {  // a rerun that echoes what the browser already shows redraws nothing
    st.root.querySelectorAll(".colours button").forEach((b) => b.classList.toggle("on", b.dataset.colour === st.colour));
    legend(st);
  }
  if (fresh) resize(st); else if (changed) draw(st);
}
