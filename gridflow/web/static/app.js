// The command centre's page: map, feed, filters and detail, fed by /api/events (server-sent events).
// No library and no network beyond this server: the page works offline.
"use strict";

const county = (location.pathname.match(/^\/county\/(\d{6})/) || [])[1] || "";
const scope = county ? `?county=${county}` : "";
const W = 800, H = 500;
const incidents = new Map();   // id -> row
const feed = [];               // newest first
const feedIds = new Set();
const reasonsOf = new Map();   // incident id -> Set of escalation reasons
let meta = null, anchors = new Map(), bounds = [105.15, 40.1, 109.95, 42.5];
let selected = null, dirty = false, cues = 0;

const $ = (sel) => document.querySelector(sel);
const esc = (s) => String(s ?? "").replace(/[&<>"]/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" }[c]));
const short = (iso) => (iso ? iso.slice(5, 16).replace("T", " ") : "—");
const LEVELS = { 1: "grid 网格", 2: "village 村", 3: "township 乡镇", 4: "county 县", 5: "city 市" };

function project(lon, lat) {
  const [x0, y0, x1, y1] = bounds, aspect = 0.76, m = 4;
  const s = Math.min((W - 2 * m) / ((x1 - x0) * aspect), (H - 2 * m) / (y1 - y0));
  return [m + (lon - x0) * s * aspect, m + (y1 - lat) * s];
}

function pathOf(geometry) {
  const polys = geometry.type === "Polygon" ? [geometry.coordinates] : geometry.coordinates;
  return polys.map((poly) => poly.map((ring) => "M" + ring.map(([x, y]) => project(x, y).map((v) => v.toFixed(1)).join(",")).join("L") + "Z").join("")).join("");
}

async function drawMap() {
  const data = await (await fetch("/api/map")).json();
  const mine = data.features.filter((f) => !county || f.properties.code.startsWith(county));
  if (county) {  // zoom to the county's own outline
    const pts = mine.filter((f) => f.properties.level === 4).flatMap((f) => (f.geometry.type === "Polygon" ? [f.geometry.coordinates] : f.geometry.coordinates).flat(2));
    const lons = pts.map((p) => p[0]), lats = pts.map((p) => p[1]);
    bounds = [Math.min(...lons) - 0.02, Math.min(...lats) - 0.02, Math.max(...lons) + 0.02, Math.max(...lats) + 0.02];
  }
  const svg = [];
  for (const f of mine.filter((f) => f.properties.level === 3)) {
    svg.push(`<path class="town" data-code="${f.properties.code}" d="${pathOf(f.geometry)}"><title>${esc(f.properties.name)} (drawn outline)</title></path>`);
  }
  for (const f of mine.filter((f) => f.properties.level === 4)) svg.push(`<path class="county" d="${pathOf(f.geometry)}"/>`);
  for (const f of data.features) anchors.set(f.properties.code, f.properties.anchor);
  for (const f of mine.filter((f) => f.properties.level === (county ? 3 : 4))) {
    const [x, y] = project(...f.properties.anchor);
    if (!county || f.properties.level === 3) svg.push(`<text x="${x.toFixed(0)}" y="${y.toFixed(0)}">${esc(f.properties.name)}</text>`);
  }
  svg.push('<g id="dots"></g>');
  $("#map").innerHTML = svg.join("");
  $("#mapsource").textContent = data.source;
}

function hash(s) { let h = 0; for (const c of s) h = (h * 31 + c.charCodeAt(0)) | 0; return h; }

function filters() {
  const f = new FormData($("#filters"));
  return { county: county || f.get("county"), level: f.get("level"), category: f.get("category"), reason: f.get("reason") };
}

function shown(row, f) {
  return (!f.county || row.county === f.county) && (!f.level || String(row.level) === f.level)
    && (!f.category || row.category === f.category)
    && (!f.reason || (reasonsOf.get(row.id) || new Set()).has(f.reason));
}

function render() {
  dirty = false;
  const f = filters();
  const rows = [...incidents.values()].filter((r) => r.open && shown(r, f));
  rows.sort((a, b) => b.level - a.level || b.severity - a.severity || (a.due_at || "").localeCompare(b.due_at || ""));
  const dots = rows.map((r) => {
    const a = anchors.get(r.township) || anchors.get(r.county) || [107.4, 40.75];
    const h = hash(r.id), [x, y] = project(a[0] + ((h & 255) / 255 - 0.5) * 0.08, a[1] + (((h >> 8) & 255) / 255 - 0.5) * 0.05);
    return `<circle data-id="${r.id}" class="s${r.severity}" cx="${x.toFixed(1)}" cy="${y.toFixed(1)}" r="${r.level >= 4 ? 6 : 3}"><title>${esc(r.category_name)} · ${esc(r.township_name)} · L${r.level}</title></circle>`;
  });
  $("#dots").innerHTML = dots.join("");
  $("#incidents tbody").innerHTML = rows.slice(0, 200).map((r) => `<tr data-id="${r.id}" class="${r.status}">
    <td>${r.status}${r.overdue ? " · overdue" : ""}</td><td><span class="sev s${r.severity}">${r.severity}</span></td><td>L${r.level}</td>
    <td>${esc(r.category_name)}</td><td>${esc(r.county_name)} · ${esc(r.township_name)}</td><td>${esc(r.unit_name)}</td><td>${short(r.due_at)}</td></tr>`).join("");
  const items = feed.filter((e) => shown({ ...e, id: e.incident, level: e.to_level, category: (incidents.get(e.incident) || {}).category || e.category }, f) && (!f.reason || e.reason === f.reason));
  $("#feed").innerHTML = items.slice(0, 150).map((e) => `<li data-id="${e.incident}" data-transition="${e.id}" class="l${e.to_level}${e.fresh ? " fresh" : ""}">
    <b>${short(e.at)}</b> L${e.from_level ?? "–"}→L${e.to_level} <span class="sev s${e.severity}">${e.severity}</span> ${esc(e.category_name)} · ${esc(e.where)} · ${esc(e.township_name)} · <i>${esc(e.reason)}</i>${e.cap ? ` <a href="/cap/${e.cap}.xml" title="CAP 1.2 alert">CAP</a>` : ""}</li>`).join("");
  const open = [...incidents.values()].filter((r) => r.open);
  $("#counts").textContent = `${open.length} open · ${open.filter((r) => r.status === "in_progress").length} acknowledged · ${rows.length} shown`;
  if (selected) showStatus();
}

function schedule() { if (!dirty) { dirty = true; setTimeout(render, 150); } }

function cue(items) {
  const top = items.filter((e) => e.new);
  if (!top.length) return;
  cues += top.length;
  document.body.dataset.cues = cues;
  const e = top[top.length - 1];
  const box = $("#alert");
  box.textContent = `⚠ L${e.to_level} ${e.category_name} · ${e.where} · ${e.township_name} · ${e.reason}`;
  box.hidden = false;
  setTimeout(() => { box.hidden = true; }, 8000);
  try {  // an audible cue: two short tones (browsers allow it once the operator has used the page)
    const ctx = new (window.AudioContext || window.webkitAudioContext)();
    [0, 0.25].forEach((t, i) => {
      const o = ctx.createOscillator(), g = ctx.createGain();
      o.frequency.value = e.to_level === 5 ? 1040 : 780 + i * 100; g.gain.value = 0.15;
      o.connect(g).connect(ctx.destination); o.start(ctx.currentTime + t); o.stop(ctx.currentTime + t + 0.18);
    });
  } catch (err) { /* no audio device: the banner still shows */ }
}

function apply(batch, initial) {
  for (const r of batch.incidents || []) {
    const known = incidents.get(r.id);
    if (!known || r.version >= known.version) incidents.set(r.id, r);
  }
  const fresh = [];
  for (const e of batch.feed || []) {
    if (feedIds.has(e.id)) continue;
    feedIds.add(e.id);
    if (!reasonsOf.has(e.incident)) reasonsOf.set(e.incident, new Set());
    reasonsOf.get(e.incident).add(e.reason);
    e.fresh = !initial && e.new;
    fresh.push(e);
  }
  if (fresh.length) {
    feed.push(...fresh);
    feed.sort((a, b) => b.at.localeCompare(a.at));
    feed.length = Math.min(feed.length, 500);
  }
  if (!initial) cue(fresh);
  if (batch.live !== undefined) setLive(batch.live);
  if (batch.clock) $("#clock").textContent = `event time ${batch.clock.slice(0, 16).replace("T", " ")}`;
  schedule();
}

function setLive(live) {
  $("#live").textContent = live ? "live" : "catching up";
  $("#live").className = live ? "badge" : "badge off";
  document.body.dataset.live = live ? "1" : "0";
}

function connect() {
  const source = new EventSource(`/api/events${scope}`);
  source.addEventListener("state", (ev) => {
    const s = JSON.parse(ev.data);
    incidents.clear();
    apply(s, true);
    document.body.dataset.ready = "1";
  });
  source.addEventListener("batch", (ev) => {
    const b = JSON.parse(ev.data);
    const newest = (b.incidents || []).map((r) => r.updated_at).sort().pop();
    if (newest) b.clock = newest;
    apply(b, false);
  });
  source.addEventListener("reload", () => { source.close(); connect(); });
}

async function showDetail(id) {
  selected = id;
  const res = await fetch(`/api/incidents/${id}${scope}`);
  if (!res.ok) return;
  const d = await res.json();
  const r = d.row;
  $("#detail").hidden = false;
  $("#detail").dataset.id = id;
  $("#detail-title").textContent = `${r.category_name} · ${r.county_name} ${r.township_name} · L${r.level} ${LEVELS[r.level]}`;
  const skip = new Set(["kind", "schema_version", "source_event_ids", "reasons"]);
  const fields = Object.entries(d.incident).filter(([k]) => !skip.has(k));
  fields.splice(0, 0, ["handling unit", `${r.unit_name} (${r.unit})`], ["rules that fired", d.incident.reasons.join(", ")]);
  $("#detail-fields").innerHTML = fields.map(([k, v]) => `<dt>${esc(k)}</dt><dd${k === "status" ? ' id="detail-status"' : ""}>${esc(typeof v === "object" && v !== null ? JSON.stringify(v) : v)}</dd>`).join("");
  $("#detail-transitions tbody").innerHTML = d.transitions.map((t) => `<tr><td>${t.seq}</td><td>${short(t.at)}</td>
    <td>${t.from_status ?? "–"}→${t.to_status}</td><td>L${t.from_level ?? "–"}→L${t.to_level}</td><td>${esc(t.reason)}</td><td>${esc(t.rule_ids.join(" "))}</td><td>${esc(t.unit_name)}</td></tr>`).join("");
  $("#detail-sources").innerHTML = d.incident.source_event_ids.map((s) => `<li><code>${s}</code></li>`).join("");
  showStatus();
}

function showStatus() {
  const r = incidents.get(selected);
  const el = $("#detail-status");
  if (r && el && el.textContent !== r.status) {
    el.textContent = r.status;
    $("#action-status").textContent = `status now ${r.status}`;
    showDetail(selected);  // the streams' new state: transitions and fields too
  }
}

let session = {};

async function act(action) {
  if (!selected) return;
  $("#action-status").textContent = `${action}: sending…`;
  const res = await fetch(`/api/incidents/${selected}/actions${scope}`, {
    method: "POST", headers: { "Content-Type": "application/json", "X-CSRF-Token": session.csrf || "" }, body: JSON.stringify({ action }),
  });
  const body = await res.json();
  $("#action-status").textContent = res.ok
    ? `${action}: disposition ${body.event_id.slice(0, 8)} sent, waiting for the streams`
    : `${action} refused: ${body.error}`;
}

function fillFilters() {
  const opts = (sel, list) => { $(sel).insertAdjacentHTML("beforeend", list.map(([v, t]) => `<option value="${esc(v)}">${esc(t)}</option>`).join("")); };
  opts('select[name="county"]', meta.counties.map((c) => [c.code, c.name]));
  opts('select[name="level"]', meta.levels.map((l) => [l.level, `L${l.level} ${l.name}`]));
  opts('select[name="category"]', meta.categories.map((c) => [c.code, c.name]));
  opts('select[name="reason"]', meta.reasons.map((r) => [r, r]));
  $("#atom").href = `/cap/alerts.atom${scope}`;
  if (county) {
    const c = meta.counties.find((c) => c.code === county);
    $("#title").textContent = `${c ? c.name : county} 综治中心`;
    $('select[name="county"]').closest("label").hidden = true;
    document.title = `${c ? c.name : county} 综治中心 · gridflow`;
  }
}

document.addEventListener("click", (ev) => {
  const hit = ev.target.closest("[data-id]");
  const button = ev.target.closest("button[data-action]");
  if (button) act(button.dataset.action);
  else if (hit && !hit.closest("#detail")) showDetail(hit.dataset.id);
});
document.addEventListener("change", (ev) => { if (ev.target.closest("#filters")) render(); });

(async () => {
  session = await (await fetch("/api/session")).json();  // the CSRF token of a logged-in session
  meta = await (await fetch("/api/meta")).json();
  fillFilters();
  await drawMap();
  connect();
})();
