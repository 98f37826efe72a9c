// A stacked bar chart in plain SVG: one bar per day, one colour per API.
const NS = "http://www.w3.org/2000/svg";
const COLOURS = ["#2563eb", "#16a34a", "#d97706", "#dc2626", "#7c3aed", "#0891b2", "#db2777",
                 "#65a30d", "#9333ea", "#0d9488", "#ea580c", "#4f46e5"];

function s(tag, attrs = {}, text) {
  const el = document.createElementNS(NS, tag);
  for (const [key, value] of Object.entries(attrs)) el.setAttribute(key, value);
  if (text !== undefined) el.textContent = text;
  return el;
}

function days(start, end) {
  const out = [];
  for (let d = new Date(`${start}T00:00:00Z`); d <= new Date(`${end}T00:00:00Z`); d.setUTCDate(d.getUTCDate() + 1)) {
    out.push(d.toISOString().slice(0, 10));
    if (out.length > 366) break;
  }
  return out;
}

// rows: [{date, api, calls, throttled}]; returns an <svg> with a legend.
export function usageChart(rows, start, end, title) {
  const dates = days(start, end);
  const apis = [...new Set(rows.map((r) => r.api))].sort();
  const colour = Object.fromEntries(apis.map((api, i) => [api, COLOURS[i % COLOURS.length]]));
  const perDay = Object.fromEntries(dates.map((d) => [d, 0]));
  for (const r of rows) if (r.date in perDay) perDay[r.date] += r.calls;
  const top = Math.max(1, ...Object.values(perDay));
  const width = 720, height = 260, left = 48, bottom = 40, right = 12, legendRow = 18;
  const plotH = height - bottom - 10, slot = (width - left - right) / Math.max(1, dates.length);
  const total = rows.reduce((sum, r) => sum + r.calls, 0);
  const svg = s("svg", { viewBox: `0 0 ${width} ${height + legendRow * Math.ceil(apis.length / 3)}`,
                         role: "img", "aria-label": `${title}: ${total}`, class: "chart", id: "usage-chart" });
  svg.append(s("title", {}, title));
  const y = (v) => 10 + plotH - (v / top) * plotH;
  for (const frac of [0, 0.5, 1]) {
    const v = Math.round(top * frac);
    svg.append(s("line", { x1: left, x2: width - right, y1: y(v), y2: y(v), class: "grid" }));
    svg.append(s("text", { x: left - 6, y: y(v) + 4, "text-anchor": "end", class: "axis" }, String(v)));
  }
  dates.forEach((date, i) => {
    let base = 0;
    const x = left + i * slot + slot * 0.15, w = Math.max(1, slot * 0.7);
    for (const api of apis) {
      const row = rows.find((r) => r.date === date && r.api === api);
      if (!row || !row.calls) continue;
      const bar = s("rect", { x, y: y(base + row.calls), width: w, height: y(base) - y(base + row.calls),
                              fill: colour[api], class: "bar", "data-date": date, "data-api": api,
                              "data-calls": row.calls });
      bar.append(s("title", {}, `${date} ${api}: ${row.calls}`));
      svg.append(bar);
      base += row.calls;
    }
    if (dates.length <= 16 || i % Math.ceil(dates.length / 16) === 0) {
      svg.append(s("text", { x: x + w / 2, y: height - bottom + 16, "text-anchor": "middle", class: "axis" },
                   date.slice(5)));
    }
  });
  apis.forEach((api, i) => {
    const lx = left + (i % 3) * 220, ly = height + Math.floor(i / 3) * legendRow;
    svg.append(s("rect", { x: lx, y: ly - 10, width: 12, height: 12, fill: colour[api] }));
    svg.append(s("text", { x: lx + 18, y: ly, class: "legend" }, api));
  });
  return svg;
}
