"use strict";
// The drill-down and the filters. Every recorded byte reaches the page through textContent (never
// innerHTML), and a link is only made from an http(s) URL, so recorded data cannot become markup.
(async function () {
  const data = await unpack(document.getElementById("report-data").textContent);
  const cells = new Map(data.cells.map((cell) => [cell.cell, cell]));
  const panel = document.getElementById("panel");
  const panelBody = document.getElementById("panel-body");
  const panelLink = document.getElementById("panel-link");
  const SHOWN_CHARS = 8000;
  const EVIDENCE_LABELS = { public: "PUBLIC", live: "LIVE", double: "DOUBLE · synthetic" };

  // The results document travels gzip + base64 (see html.py embed_json).
  async function unpack(text) {
    const bytes = Uint8Array.from(atob(text.trim()), (char) => char.charCodeAt(0));
    const stream = new Blob([bytes]).stream().pipeThrough(new DecompressionStream("gzip"));
    return JSON.parse(await new Response(stream).text());
  }

  function el(tag, props, ...children) {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(props || {})) {
      if (value === undefined || value === null || value === false) continue;
      if (key === "class") node.className = value;
      else node.setAttribute(key, value);
    }
    for (const child of children.flat()) {
      if (child === undefined || child === null || child === false) continue;
      node.append(child instanceof Node ? child : String(child));
    }
    return node;
  }

  function link(url, text) {
    if (typeof url === "string" && /^https?:\/\//i.test(url)) {
      return el("a", { href: url, rel: "noopener noreferrer", target: "_blank" }, text || url);
    }
    return el("span", {}, text || url || "");
  }

  function cellHash(id) {
    return "#cell=" + id.split("/").map(encodeURIComponent).join("/");
  }

  function verdictBadge(verdict) {
    return el("span", { class: "badge v-" + verdict }, String(verdict).replace(/_/g, " "));
  }

  function evidenceBadge(cell) {
    const kind = cell.evidence ? cell.evidence.kind : "none";
    const notZai = cell.evidence && kind !== "double" && !cell.real;
    const label = cell.evidence ? (EVIDENCE_LABELS[kind] || String(kind).toUpperCase()) : "no evidence";
    return el("span", { class: "ev", "data-kind": kind, "data-real": notZai ? "false" : null },
      notZai ? label + " · not Z.AI" : label);
  }

  function table(rows) {
    return el("table", { class: "kv" }, rows.filter((row) => row[1] !== undefined && row[1] !== null && row[1] !== "")
      .map(([name, value]) => el("tr", {}, el("th", { scope: "row" }, name), el("td", {}, value))));
  }

  function longText(text) {
    const pre = el("pre", {}, text.length > SHOWN_CHARS ? text.slice(0, SHOWN_CHARS) : text);
    if (text.length <= SHOWN_CHARS) return pre;
    const more = el("button", { type: "button", class: "more" },
      `show all (${text.length.toLocaleString()} characters; ${(text.length - SHOWN_CHARS).toLocaleString()} hidden)`);
    more.addEventListener("click", () => { pre.textContent = text; more.remove(); });
    return el("div", {}, pre, more);
  }

  function resolve(holder, key) {
    const ref = holder[key + "_ref"];
    if (ref && ref in data.bodies) return data.bodies[ref];
    const size = (data.bodies_left_out || {})[ref];
    if (size) return `(a request body of ${size.toLocaleString()} characters, left out of this page to keep it light: results.json holds it under bodies["${ref}"])`;
    if (ref) return `(body ${ref} is missing from this report)`;
    return holder[key];
  }

  function headerValue(headers, name) {
    for (const [key, values] of Object.entries(headers || {})) {
      if (key.toLowerCase() === name) return [].concat(values).join(", ");
    }
    return "";
  }

  function body(text, contentType) {
    if (text === undefined || text === null) return el("p", { class: "hint" }, "no body");
    if (text === "") return el("p", { class: "hint" }, "empty body");
    const sse = /event-stream/i.test(contentType) || /^(data|event):/m.test(text.slice(0, 300));
    if (!sse && (/json/i.test(contentType) || /^\s*[[{]/.test(text))) {
      try {
        return longText(JSON.stringify(JSON.parse(text), null, 2));
      } catch (error) {
        // Not JSON after all: shown as received.
      }
    }
    return longText(text);
  }

  function headers(map) {
    const rows = Object.entries(map || {}).map(([name, values]) => [name, [].concat(values).join("\n")]);
    return rows.length ? table(rows) : el("p", { class: "hint" }, "no headers");
  }

  function section(title, ...children) {
    return el("section", {}, el("h3", {}, title), ...children);
  }

  function summaryLine(cell) {
    const parts = [verdictBadge(cell.verdict), evidenceBadge(cell)];
    if (cell.as_expected === false) parts.push(el("span", { class: "unexp" }, "UNEXPECTED"));
    if (typeof cell.duration_ms === "number") parts.push(el("span", { class: "hint" }, `${cell.duration_ms} ms`));
    return el("p", { class: "badges" }, parts);
  }

  function reasonsSection(cell) {
    const reasons = cell.reasons || [];
    return section("Reasons",
      reasons.length ? el("ul", {}, reasons.map((reason) => el("li", {}, reason)))
        : el("p", { class: "hint" }, "none: no finding above info"),
      cell.evidence_error ? el("p", { class: "warn" }, "Evidence error: ", cell.evidence_error) : null);
  }

  function expectationSection(cell) {
    const expected = cell.expected;
    if (!expected) return section("Expectation", el("p", { class: "hint" }, "no expectation recorded for this cell"));
    const outcome = cell.as_expected === true ? el("span", { class: "ok" }, "as expected")
      : cell.as_expected === false ? el("span", { class: "unexp" }, `UNEXPECTED: the verdict is ${cell.verdict}`)
        : el("span", { class: "hint" }, "not judged (nothing ran to a verdict to compare)");
    return section("Expectation", table([
      ["expected verdict", el("span", {}, verdictBadge(expected.verdict), " ", outcome)],
      ["reason", expected.reason || null],
      ["link", expected.link ? link(expected.link) : null],
      ["expectations entry", expected.pattern ? el("code", {}, expected.pattern) : "none matched: the default expectation"],
    ]));
  }

  function provenanceRows(kind, provenance) {
    const source = provenance.source || {};
    if (kind === "public") {
      return [
        ["source project", [source.project, source.license ? ` (${source.license})` : ""].join("")],
        ["source path", source.path ? el("code", {}, source.path) : null],
        ["commit", source.commit ? el("code", { title: source.commit }, source.commit.slice(0, 12)) : null],
        ["commit date", source.date],
        ["recorded", [provenance.recorded, provenance.recorded_meaning ? ` (${provenance.recorded_meaning})` : ""].join("")],
        ["client (User-Agent)", provenance.client],
        ["endpoint URL", provenance.endpoint_url],
        ["corpus file", source.corpus_file],
      ];
    }
    const clients = provenance.clients
      ? Object.entries(provenance.clients).map(([name, version]) => `${name} ${version}`).join(" · ") : null;
    return [
      ["recorded", provenance.recorded],
      ["recorded by", provenance.recorded_by],
      ["endpoint URL", provenance.endpoint_url],
      ["target is Z.AI", provenance.target_is_zai === undefined ? null : String(provenance.target_is_zai)],
      ["clients", clients],
    ];
  }

  function evidenceSection(cell) {
    const evidence = cell.evidence;
    if (!evidence) {
      return section("Evidence", el("p", {}, "No evidence for this cell."),
        cell.record_command ? el("p", {}, "Record it: ", el("code", {}, cell.record_command)) : null);
    }
    const provenance = evidence.provenance || {};
    const banner = evidence.kind === "double"
      ? el("p", { class: "synthetic" }, "SYNTHETIC: produced by the project's Z.AI double. These are not real Z.AI bytes.")
      : !cell.real ? el("p", { class: "notzai" }, "Recorded against a base URL that is not Z.AI: not real Z.AI bytes.")
        : el("p", {}, evidence.kind === "public"
          ? "Real Z.AI bytes, recorded by another project and imported byte for byte."
          : "Real Z.AI bytes, recorded live by this harness.");
    const warnings = (evidence.warnings || []).map((warning) => el("p", { class: "warn" }, "Evidence warning: ", warning));
    return section("Evidence", el("p", { class: "badges" }, evidenceBadge(cell)), banner, warnings,
      table([["cassette", evidence.cassette ? el("code", {}, evidence.cassette) : null],
        ["unused interactions", evidence.unused ? String(evidence.unused) : null],
        ...provenanceRows(evidence.kind, provenance)]),
      el("details", {}, el("summary", {}, "all provenance fields"), longText(JSON.stringify(provenance, null, 2))));
  }

  function findingsSection(cell) {
    const findings = cell.findings || [];
    if (!findings.length) return section("Findings", el("p", { class: "hint" }, "no findings"));
    const groups = new Map();
    for (const finding of findings) {
      const key = `${finding.turn === null || finding.turn === undefined ? "" : finding.turn}|${finding.side}`;
      if (!groups.has(key)) groups.set(key, { turn: finding.turn, side: finding.side, items: [] });
      groups.get(key).items.push(finding);
    }
    const order = (group) => [group.turn === null || group.turn === undefined ? -1 : group.turn,
      group.side === "request" ? 0 : 1];
    const sorted = [...groups.values()].sort((a, b) => {
      const [x, y] = [order(a), order(b)];
      return x[0] - y[0] || x[1] - y[1];
    });
    const tally = ["fail", "deviation", "info"]
      .map((severity) => `${findings.filter((f) => f.severity === severity).length} ${severity}`).join(", ");
    return section(`Findings (${tally})`, sorted.map((group) => el("div", {},
      el("h4", {}, group.turn === null || group.turn === undefined ? "Whole conversation" : `Turn ${group.turn + 1}`,
        " · ", group.side),
      el("ul", {}, group.items.map((finding) => el("li", { class: "finding " + finding.severity },
        el("span", { class: "sev sev-" + finding.severity }, finding.severity), " ",
        el("code", {}, finding.check), " ", finding.message))))));
  }

  function exchangeView(exchange, index) {
    const requestType = headerValue(exchange.request_headers, "content-type");
    const responseType = headerValue(exchange.response_headers, "content-type");
    const answered = exchange.status !== null && exchange.status !== undefined;
    return el("div", { class: "exchange" },
      el("h4", {}, `#${index + 1} `, el("code", {}, `${exchange.method} ${exchange.url}`)),
      table([["outcome", exchange.outcome], ["status", answered ? String(exchange.status) : null],
        ["replay miss", exchange.miss]]),
      el("h4", {}, "Request sent"), headers(exchange.request_headers), body(resolve(exchange, "request_body"), requestType),
      el("h4", {}, answered ? `Response received: ${exchange.status}` : "Response"),
      answered ? [headers(exchange.response_headers), body(resolve(exchange, "response_body"), responseType)]
        : el("p", { class: "hint" }, "no response"));
  }

  function exchangesSection(cell) {
    const exchanges = (cell.observation && cell.observation.exchanges) || [];
    return section(`Exchanges (${exchanges.length})`, exchanges.length ? exchanges.map(exchangeView)
      : el("p", { class: "hint" }, "nothing reached the wire"));
  }

  function turnValue(value) {
    if (typeof value === "string") return value.length > 200 || value.includes("\n") ? longText(value) : value;
    return longText(JSON.stringify(value, null, 2));
  }

  function turnView(turn) {
    const rows = [];
    for (const [key, value] of Object.entries(turn)) {
      if (key === "index" || value === null || value === undefined) continue;
      if ((Array.isArray(value) && !value.length) || (typeof value === "object" && !Object.keys(value).length)) continue;
      rows.push([key, turnValue(value)]);
    }
    return el("div", {}, el("h4", {}, `Turn ${(turn.index || 0) + 1}`), table(rows));
  }

  function turnsSection(cell) {
    const turns = (cell.observation && cell.observation.turns) || [];
    if (!turns.length) return null;
    return el("details", {}, el("summary", {}, `What the client exposed (${turns.length} turn(s))`), turns.map(turnView));
  }

  function render(cell) {
    return [
      el("h2", {}, cell.cell),
      summaryLine(cell),
      reasonsSection(cell),
      expectationSection(cell),
      evidenceSection(cell),
      findingsSection(cell),
      exchangesSection(cell),
      turnsSection(cell),
    ].filter(Boolean);
  }

  function select(id) {
    for (const td of document.querySelectorAll("td.c.selected")) td.classList.remove("selected");
    const td = document.getElementById("cell=" + id);
    if (!td) return;
    td.classList.add("selected");
    for (let node = td.parentElement; node; node = node.parentElement) {
      if (node.tagName === "DETAILS") node.open = true;
    }
    td.scrollIntoView({ block: "nearest" });
  }

  function show(id) {
    const cell = cells.get(id);
    panelBody.replaceChildren(...(cell ? render(cell)
      : [el("h2", {}, id), el("p", { class: "warn" }, "There is no such cell in this report.")]));
    panelLink.setAttribute("href", cellHash(id));
    panel.hidden = false;
    panel.scrollTop = 0;
    select(id);
  }

  function hide() {
    panel.hidden = true;
    for (const td of document.querySelectorAll("td.c.selected")) td.classList.remove("selected");
  }

  function closePanel() {
    hide();
    try {
      history.pushState(null, "", location.pathname + location.search);
    } catch (error) {
      location.hash = "";
    }
  }

  function route() {
    if (!location.hash.startsWith("#cell=")) return hide();
    const raw = location.hash.slice("#cell=".length);
    try {
      show(decodeURIComponent(raw));
    } catch (error) {
      show(raw);
    }
  }

  function applyFilters() {
    const hideBare = document.getElementById("f-evidence").checked;
    const verdict = document.getElementById("f-verdict").value;
    const onlyUnexpected = document.getElementById("f-unexpected").checked;
    for (const td of document.querySelectorAll("td.c[data-verdict]")) {
      td.classList.toggle("off", (hideBare && td.dataset.evidence === "none") ||
        (verdict !== "" && td.dataset.verdict !== verdict) || (onlyUnexpected && !td.dataset.unexpected));
    }
    const anyOn = (node) => node.querySelector("td.c[data-verdict]:not(.off)") !== null;
    for (const node of document.querySelectorAll("table.matrix tbody tr, section.model, details.no-evidence")) {
      node.classList.toggle("off", !anyOn(node));
    }
  }

  const filters = document.getElementById("filters");
  filters.hidden = false;
  filters.addEventListener("change", applyFilters);
  filters.addEventListener("submit", (event) => event.preventDefault());
  document.getElementById("panel-close").addEventListener("click", closePanel);
  document.addEventListener("keydown", (event) => { if (event.key === "Escape" && !panel.hidden) closePanel(); });
  window.addEventListener("hashchange", route);
  route();
})();
