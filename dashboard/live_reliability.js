// The Calibration lab's live reliability diagram: a temperature slider and an SVG diagram that redraws in
// the browser on every slider step, from states the server computed for each temperature on the grid
// (dashboard/live.py). Only releasing the slider (or clicking a bar) talks to the server.
const NS = "http://www.w3.org/2000/svg";
const W = 760, H = 400, L = 64, R = 14, TOP = 10, MID = 288, LOW_TOP = 304, BOTTOM = 360;

function el(tag, attrs, parent) {
  const e = document.createElementNS(NS, tag);
  for (const [k, v] of Object.entries(attrs || {})) e.setAttribute(k, v);
  if (parent) parent.appendChild(e);
  return e;
}
const sx = (c) => L + c * (W - L - R);
const sy = (a) => MID - a * (MID - TOP);
const pct = (v, d = 2) => (v * 100).toFixed(d) + "%";

function build(root, st) {
  const svg = root.querySelector("svg");
  svg.setAttribute("viewBox", `0 0 ${W} ${H}`);
  const defs = el("defs", {}, svg);
  const pat = el("pattern", { id: "lt-hatch", width: 6, height: 6, patternUnits: "userSpaceOnUse",
                              patternTransform: "rotate(45)" }, defs);
  el("rect", { width: 6, height: 6, fill: "rgba(214,39,40,0.25)" }, pat);
  el("line", { x1: 0, y1: 0, x2: 0, y2: 6, stroke: "#d62728", "stroke-width": 3 }, pat);
  for (const v of [0, 0.2, 0.4, 0.6, 0.8, 1]) {  // grid and ticks
    el("line", { x1: sx(0), x2: sx(1), y1: sy(v), y2: sy(v), class: "grid" }, svg);
    el("text", { x: L - 8, y: sy(v) + 6, class: "tick", "text-anchor": "end" }, svg).textContent = v.toFixed(1);
    el("text", { x: sx(v), y: BOTTOM + 21, class: "tick", "text-anchor": "middle" }, svg).textContent = v.toFixed(1);
  }
  el("text", { x: sx(0.5), y: H - 2, class: "axis", "text-anchor": "middle" }, svg).textContent =
    "confidence (how sure the model says it is)";
  const yl = el("text", { x: 16, y: sy(0.5), class: "axis", "text-anchor": "middle",
                          transform: `rotate(-90 16 ${sy(0.5)})` }, svg);
  yl.textContent = "accuracy";
  el("line", { x1: sx(0), y1: sy(0), x2: sx(1), y2: sy(1), class: "diag" }, svg);
  el("text", { x: L - 8, y: (LOW_TOP + BOTTOM) / 2 + 6, class: "tick", "text-anchor": "end" }, svg).textContent = "n";
  st.svg = svg;
  st.bars = []; st.gaps = []; st.counts = []; st.refs = []; st.titles = [];
  st.layer = el("g", {}, svg);
}

function ensureBins(st, n) {
  while (st.bars.length < n) {
    const b = st.bars.length;
    const g = el("g", { class: "bin" }, st.layer);
    const bar = el("rect", { class: "bar" }, g), gap = el("rect", { class: "gap", fill: "url(#lt-hatch)" }, g);
    const cnt = el("rect", { class: "count" }, g), ref = el("circle", { class: "ref", r: 5 }, g);
    const title = el("title", {}, g);
    g.addEventListener("click", () => { st.selected = b; draw(st, st.index); st.setStateValue("bin", b); });
    st.bars.push(bar); st.gaps.push(gap); st.counts.push(cnt); st.refs.push(ref); st.titles.push(title);
  }
  st.bars.forEach((bar, b) => { bar.parentNode.style.display = b < n ? "" : "none"; });
}

function draw(st, i) {
  const d = st.data, n = d.count[i].length, edges = d.edges[i], ref = d.ref;
  ensureBins(st, n);
  for (let b = 0; b < n; b++) {
    const c = d.count[i][b], acc = d.accuracy[i][b], conf = d.confidence[i][b];
    const x0 = sx(edges[b]) + 1, w = Math.max(sx(edges[b + 1]) - sx(edges[b]) - 2, 1);
    const show = c > 0 && acc !== null;
    for (const r of [st.bars[b], st.gaps[b], st.counts[b]]) r.style.display = show ? "" : "none";
    if (show) {
      st.bars[b].setAttribute("x", x0); st.bars[b].setAttribute("width", w);
      st.bars[b].setAttribute("y", sy(acc)); st.bars[b].setAttribute("height", sy(0) - sy(acc));
      st.bars[b].setAttribute("opacity", 0.35 + 0.65 * Math.min(1, Math.log10(1 + c) / 3));
      const lo = Math.min(acc, conf), hi = Math.max(acc, conf);
      st.gaps[b].setAttribute("x", x0); st.gaps[b].setAttribute("width", w);
      st.gaps[b].setAttribute("y", sy(hi)); st.gaps[b].setAttribute("height", Math.max(sy(lo) - sy(hi), 0));
      const hc = (BOTTOM - LOW_TOP) * Math.log10(1 + c) / Math.log10(1 + d.max_count);
      st.counts[b].setAttribute("x", x0); st.counts[b].setAttribute("width", w);
      st.counts[b].setAttribute("y", BOTTOM - hc); st.counts[b].setAttribute("height", hc);
      st.counts[b].classList.toggle("selected", b === st.selected);
      st.bars[b].classList.toggle("selected", b === st.selected);
      st.titles[b].textContent = `confidence ${pct(edges[b], 1)}–${pct(edges[b + 1], 1)}: ${c.toLocaleString("en")} ` +
        `digits, right ${pct(acc, 1)} of the time, ${pct(conf, 1)} sure on average. Click to see them.`;
    }
    const rc = d.count[ref][b] > 0 && d.accuracy[ref][b] !== null && d.same_edges;
    st.refs[b].style.display = rc ? "" : "none";
    if (rc) { st.refs[b].setAttribute("cx", sx(d.confidence[ref][b])); st.refs[b].setAttribute("cy", sy(d.accuracy[ref][b])); }
  }
  const t = d.temperature[i];
  st.root.querySelector(".tval").textContent = t.toFixed(2);
  st.root.querySelector(".hint").textContent = t < 0.995 ? "sharper: more confident" :
    t > 1.005 ? "softer: less confident" : "no scaling";
  for (const [name, fmt] of [["ece", pct], ["mce", pct], ["nll", (v) => v.toFixed(4)]]) {
    st.root.querySelector(`.v-${name}`).textContent = fmt(d[name][i]);
    st.root.querySelector(`.r-${name}`).textContent = `at T = 1: ${fmt(d[name][ref])}`;
  }
  st.root.dataset.temperature = t.toFixed(2);
  st.index = i;
}

export default function (component) {
  const { data, parentElement, setStateValue } = component;
  const root = parentElement.querySelector(".lt");
  let st = root.__lt;
  if (!st) {
    st = root.__lt = { root, index: data.index, selected: data.selected, token: null };
    build(root, st);
    const slider = root.querySelector("input.t");
    slider.addEventListener("input", () => draw(st, Number(slider.value)));
    slider.addEventListener("change", () => st.setStateValue("temperature", st.data.temperature[Number(slider.value)]));
    st.slider = slider;
  }
  st.setStateValue = setStateValue;
  if (st.token !== data.token) {  // new states from the server (another method, bins, or a preset)
    st.data = data; st.token = data.token; st.selected = data.selected;
    st.slider.max = data.temperature.length - 1;
    st.slider.value = data.index;
    const ticks = root.querySelector(".ticks");
    ticks.querySelectorAll("span").forEach((s) => s.remove());
    for (const [j, label] of data.ticks) {
      const s = document.createElement("span");
      s.style.left = `${(100 * j) / (data.temperature.length - 1)}%`;
      s.textContent = label;
      ticks.appendChild(s);
    }
    const best = root.querySelector(".best");
    best.style.left = `${(100 * data.best) / (data.temperature.length - 1)}%`;
    root.querySelector(".bestval").textContent = `▲ best on ${data.best_on || "validation"}: T = ${data.temperature[data.best].toFixed(2)}`;
    root.querySelector(".title").textContent = data.title;
    draw(st, data.index);
  }
}
