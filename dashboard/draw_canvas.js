// Try a digit's drawing pad (dashboard/draw_canvas.py): white round-capped strokes on black, smoothed through
// the midpoints of the pointer positions (as fabric.js's pencil draws). When the pen lifts, the whole pad goes
// to the server as a PNG data URL (setStateValue "drawing"), with no debounce.
export default function (component) {
  const { data, parentElement, setStateValue } = component;
  const canvas = parentElement.querySelector("canvas");
  let st = canvas.__dp;
  if (!st) {
    st = canvas.__dp = { points: [], down: false, strokes: 0 };
    const ctx = canvas.getContext("2d");
    ctx.fillStyle = "#000"; ctx.fillRect(0, 0, canvas.width, canvas.height);
    const at = (e) => {
      const r = canvas.getBoundingClientRect();
      return [((e.clientX - r.left) * canvas.width) / r.width, ((e.clientY - r.top) * canvas.height) / r.height];
    };
    const paint = () => {  // the current stroke, redrawn from its start over a snapshot taken at pen-down
      const p = st.points;
      ctx.putImageData(st.snapshot, 0, 0);
      ctx.strokeStyle = "#fff"; ctx.lineWidth = st.pen; ctx.lineCap = "round"; ctx.lineJoin = "round";
      ctx.beginPath();
      ctx.moveTo(p[0][0], p[0][1]);
      if (p.length === 1) ctx.lineTo(p[0][0] + 0.01, p[0][1]);
      for (let i = 1; i < p.length - 1; i++) {
        const mx = (p[i][0] + p[i + 1][0]) / 2, my = (p[i][1] + p[i + 1][1]) / 2;
        ctx.quadraticCurveTo(p[i][0], p[i][1], mx, my);
      }
      if (p.length > 1) ctx.lineTo(p[p.length - 1][0], p[p.length - 1][1]);
      ctx.stroke();
    };
    canvas.addEventListener("pointerdown", (e) => {
      canvas.setPointerCapture(e.pointerId);
      st.down = true; st.points = [at(e)];
      st.snapshot = ctx.getImageData(0, 0, canvas.width, canvas.height);
      paint();
    });
    canvas.addEventListener("pointermove", (e) => {
      if (!st.down) return;
      st.points.push(at(e));
      if (!st.frame) st.frame = requestAnimationFrame(() => { st.frame = 0; if (st.points.length) paint(); });
    });
    const lift = () => {
      if (!st.down) return;
      st.down = false;
      if (st.frame) { cancelAnimationFrame(st.frame); st.frame = 0; }
      paint();
      st.points = [];
      st.strokes += 1;
      canvas.dataset.strokes = String(st.strokes);
      st.send("drawing", { data: canvas.toDataURL("image/png"), strokes: st.strokes });
    };
    canvas.addEventListener("pointerup", lift);
    canvas.addEventListener("pointercancel", lift);
    if (data.image) {  // mounted anew under a key that already holds a drawing: show it again
      const img = new Image();
      img.onload = () => { if (!st.strokes && !st.down) ctx.drawImage(img, 0, 0, canvas.width, canvas.height); };
      img.src = data.image;
    }
  }
  st.pen = data.pen;
  st.send = setStateValue;
}
