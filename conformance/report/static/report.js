"use strict";
// The matrices, the filters and the drill-down. The page embeds a compact index of every cell
// (page_index.py) and, per endpoint/model matrix, the drill-down data (drilldown.py); this script
// draws the one matrix being viewed and unpacks a matrix's drill-down data when one of its cells is
// first opened. Every recorded byte reaches the page through textContent or an attribute value (never
// innerHTML), and a link is only made from an http(s) URL, so recorded data cannot become markup.
(async function () {
  const root = document.documentElement;
  const $ = (id) => document.getElementById(id);
  const SHOWN_CHARS = 8000;
  const SHORT_REASON = 90;
  const VIEW_KEYS = ["endpoint", "model", "path", "feature", "verdict", "evidence", "unexpected", "q"];
  const CELL_FILTERS = ["verdict", "evidence", "unexpected", "q"];

  // Embedded data travels as gzip + base64 (packing.py).
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

  const shownCount = $("shown-count");
  let index;
  try {
    index = await unpack($("report-index").textContent);
  } catch (error) {
    shownCount.textContent = "This browser could not unpack the page's data (it needs DecompressionStream): " +
      "the summary above still reads, and results.json holds every cell.";
    root.dataset.ready = "true";
    return;
  }

  // --- the index ------------------------------------------------------------------------------
  const C = index.cells;
  const total = C.v.length;
  const blocks = index.blocks;
  const ids = new Array(total);
  const byId = new Map();
  const places = blocks.map(() => new Map());  // per block: "scenario|path" → cell
  for (let i = 0; i < total; i += 1) {
    const block = blocks[C.b[i]];
    ids[i] = [index.endpoints[block.endpoint], index.models[block.model], index.paths[C.p[i]],
      index.scenarios[C.s[i]]].join("/");
    byId.set(ids[i], i);
    places[C.b[i]].set(C.s[i] + "|" + C.p[i], i);
  }
  const endpointOf = (b) => index.endpoints[blocks[b].endpoint];
  const modelOf = (b) => index.models[blocks[b].model];
  const verdictOf = (i) => index.verdicts[C.v[i]];
  const kindOf = (i) => index.kinds[C.k[i]];
  const labelOf = (i) => index.labels[C.l[i]];
  const reasonsOf = (i) => C.r[i].map((r) => index.reasons[r]);
  const familyOf = (i) => index.families[index.scenario_family[C.s[i]]][0];
  let searchText = null;  // lower-cased id and reasons per cell, made on the first search

  function matches(i, state) {
    if (state.path && index.paths[C.p[i]] !== state.path) return false;
    if (state.feature && familyOf(i) !== state.feature) return false;
    if (state.verdict && verdictOf(i) !== state.verdict) return false;
    if (state.evidence && kindOf(i) !== state.evidence) return false;
    if (state.unexpected && C.a[i] !== 0) return false;
    if (state.q) {
      if (!searchText) searchText = ids.map((id, j) => [id, ...reasonsOf(j)].join("\n").toLowerCase());
      for (const word of state.q.toLowerCase().split(/\s+/)) {
        if (word && !searchText[i].includes(word)) return false;
      }
    }
    return true;
  }

  // --- the view: what is picked and filtered, kept in the address ---------------------------------
  const controls = {
    endpoint: $("pick-endpoint"), model: $("pick-model"), path: $("pick-path"), feature: $("pick-feature"),
    verdict: $("f-verdict"), evidence: $("f-evidence"), q: $("search"),
  };
  const unexpectedBox = $("f-unexpected");
  let state = defaults();

  function blocksOf(endpoint) {
    return blocks.map((_, b) => b).filter((b) => endpointOf(b) === endpoint);
  }

  function defaultModel(endpoint) {
    const mine = blocksOf(endpoint);
    const shown = mine.find((b) => !blocks[b].folded);
    return mine.length ? modelOf(shown === undefined ? mine[0] : shown) : "";
  }

  function defaults() {
    const endpoint = blocks.length ? endpointOf(0) : "";
    return { endpoint, model: defaultModel(endpoint), path: "", feature: "", verdict: "", evidence: "", unexpected: "", q: "" };
  }

  function currentBlock() {
    return blocks.findIndex((_, b) => endpointOf(b) === state.endpoint && modelOf(b) === state.model);
  }

  function optionValues(select) {
    return [...select.options].map((option) => option.value);
  }

  function valid(view) {
    const next = { ...defaults(), ...view };
    if (!index.endpoints.includes(next.endpoint) || !blocksOf(next.endpoint).length) next.endpoint = defaults().endpoint;
    if (!blocksOf(next.endpoint).some((b) => modelOf(b) === next.model)) next.model = defaultModel(next.endpoint);
    for (const key of ["path", "feature", "verdict", "evidence"]) {
      if (!optionValues(controls[key]).includes(next[key])) next[key] = "";
    }
    next.unexpected = next.unexpected ? "1" : "";
    return next;
  }

  function readView(text) {
    const params = new URLSearchParams(text);
    const view = {};
    for (const key of VIEW_KEYS) {
      if (params.has(key)) view[key] = params.get(key);
    }
    return valid(view);
  }

  function viewHash() {
    const params = new URLSearchParams();
    for (const key of VIEW_KEYS) {
      if (state[key]) params.set(key, state[key]);
    }
    return "#view=" + params.toString();
  }

  function fillModels() {
    const select = controls.model;
    select.replaceChildren(...blocksOf(state.endpoint).map((b) => el("option", { value: modelOf(b) },
      blocks[b].folded ? modelOf(b) + " (no evidence yet)" : modelOf(b))));
  }

  function syncControls() {
    fillModels();
    for (const [key, control] of Object.entries(controls)) control.value = state[key];
    unexpectedBox.checked = Boolean(state.unexpected);
  }

  function readControls() {
    const view = {};
    for (const [key, control] of Object.entries(controls)) view[key] = control.value.trim();
    view.unexpected = unexpectedBox.checked ? "1" : "";
    if (view.endpoint !== state.endpoint) view.model = defaultModel(view.endpoint);
    return valid(view);
  }

  function remember() {
    try {
      history.replaceState(null, "", viewHash());
    } catch (error) {
      // A file:// page in some browsers refuses history changes: the view still applies.
    }
  }

  // --- the matrix ----------------------------------------------------------------------------------
  const matrix = $("matrix");
  const caption = $("matrix-caption");
  const scroller = $("matrix-scroll");
  const results = $("results");
  const blockHint = $("block-hint");
  let drawn = "";

  function cellHash(id) {
    return "#cell=" + id.split("/").map(encodeURIComponent).join("/");
  }

  function verdictBadge(verdict) {
    return el("span", { class: "badge v-" + verdict }, String(verdict).replace(/_/g, " "));
  }

  function evidenceBadge(i) {
    const label = labelOf(i);
    return el("span", { class: "ev", "data-kind": kindOf(i), "data-real": / · not Z\.AI$/.test(label) ? "false" : null }, label);
  }

  function clip(text) {
    return text.length <= SHORT_REASON ? text : text.slice(0, SHORT_REASON - 1) + "…";
  }

  function tooltip(i) {
    const lines = [`${ids[i]}: ${verdictOf(i)}`];
    const reasons = reasonsOf(i);
    if (reasons.length) lines.push(clip(reasons[0]) + (reasons.length > 1 ? ` (+${reasons.length - 1} more)` : ""));
    if (C.a[i] === 0) lines.push(`unexpected: expected ${index.verdicts[C.x[i]]}`);
    lines.push("evidence: " + labelOf(i) + (C.n[i] >= 0 ? " — " + index.notes[C.n[i]] : ""));
    return lines.join("\n");
  }

  function cellTd(i) {
    const verdict = verdictOf(i);
    const unexpected = C.a[i] === 0;
    return el("td", { class: "c", "data-cell": ids[i], "data-verdict": verdict, "data-evidence": kindOf(i),
      "data-unexpected": unexpected ? "true" : null },
    el("a", { href: cellHash(ids[i]), title: tooltip(i) }, verdictBadge(verdict),
      verdict !== "NOT_RECORDED" ? [" ", evidenceBadge(i)] : null,
      unexpected ? [" ", el("span", { class: "unexp" }, "UNEXPECTED · expected " + index.verdicts[C.x[i]])] : null));
  }

  function filtering() {
    return CELL_FILTERS.some((key) => state[key]);
  }

  function draw(force) {
    const key = JSON.stringify(state);
    if (key === drawn && !force) return;
    drawn = key;
    const b = currentBlock();
    if (b < 0) {
      scroller.hidden = true;
      shownCount.textContent = `0 of ${total.toLocaleString("en")} cells shown`;
      return;
    }
    const block = blocks[b];
    const narrowing = filtering();
    const matched = new Set();
    for (const i of places[b].values()) {
      if (matches(i, state)) matched.add(i);
    }
    const columns = block.paths.filter((p) => (!state.path || index.paths[p] === state.path) &&
      (!narrowing || block.scenarios.some((s) => matched.has(places[b].get(s + "|" + p)))));
    const rows = block.scenarios.filter((s) => columns.some((p) => matched.has(places[b].get(s + "|" + p))));
    const head = el("thead", {}, el("tr", {}, el("th", { scope: "col" }, "scenario"),
      columns.map((p) => el("th", { scope: "col" }, index.paths[p]))));
    const body = el("tbody", {}, rows.map((s) => el("tr", {}, el("th", { scope: "row" }, index.scenarios[s]),
      columns.map((p) => {
        const i = places[b].get(s + "|" + p);
        if (i === undefined) return el("td", { class: "absent", title: "no such cell in this run" }, "—");
        return matched.has(i) ? cellTd(i) : el("td", { class: "filtered" });
      }))));
    caption.textContent = `${endpointOf(b)} / ${modelOf(b)}: scenarios × client paths`;
    matrix.replaceChildren(caption, head, body);
    scroller.hidden = !rows.length;
    const hints = [];
    if (!block.has_evidence) {
      hints.push(`No evidence yet for ${endpointOf(b)} / ${modelOf(b)}. Record it: ` +
        `ZAI_API_KEY=… zai-conformance run --live --cell '${endpointOf(b)}/${modelOf(b)}/*'`);
    }
    if (!rows.length) hints.push("No cell of this matrix matches the picks and filters.");
    blockHint.textContent = hints.join(" ");
    blockHint.hidden = !hints.length;
    shownCount.textContent = `${matched.size.toLocaleString("en")} of ${total.toLocaleString("en")} cells shown` +
      ` (${endpointOf(b)} / ${modelOf(b)})`;
    drawResults(b);
  }

  // With a filter or a search set, every matrix's count of matching cells, to move between them.
  function drawResults(current) {
    if (!filtering()) {
      results.hidden = true;
      results.replaceChildren();
      return;
    }
    const counts = blocks.map(() => 0);
    for (let i = 0; i < total; i += 1) {
      if (matches(i, state)) counts[C.b[i]] += 1;
    }
    const found = counts.reduce((sum, count) => sum + count, 0);
    const items = blocks.map((_, b) => b).filter((b) => counts[b]).map((b) => el("li", {},
      el("button", { type: "button", class: "to-block", "data-block": String(b), "aria-current": b === current ? "true" : null },
        `${endpointOf(b)} / ${modelOf(b)}`), ` ${counts[b].toLocaleString("en")}`));
    results.replaceChildren(el("h3", {}, `${found.toLocaleString("en")} matching cell(s) in ${items.length} matri${items.length === 1 ? "x" : "ces"}`),
      items.length ? el("ul", {}, items) : el("p", {}, "No cell in any matrix matches."));
    results.hidden = false;
  }

  function apply(view, { keepHash } = {}) {
    state = view;
    syncControls();
    draw();
    if (!keepHash) remember();
  }

  // --- the drill-down: each matrix's data unpacked when one of its cells is first opened -------------
  const panel = $("panel");
  const panelBody = $("panel-body");
  const panelLink = $("panel-link");
  const loaded = new Map();
  let openId = null;
  let opener = null;

  function nested(columns) {
    const keys = Object.keys(columns.c);
    const out = [];
    let at = 0;
    for (const count of columns.n) {
      const items = [];
      for (let j = 0; j < count; j += 1, at += 1) {
        const item = {};
        for (const key of keys) {
          const value = columns.c[key][at];
          if (value !== null && value !== undefined) item[key] = value;
        }
        items.push(item);
      }
      out.push(items);
    }
    return out;
  }

  // drilldown.py's inverse: columns back into one record per cell, shared values and bodies put back.
  function unpackBlock(payload, shared) {
    const findings = nested(payload.findings);
    for (const finding of findings.flat()) {
      if (typeof finding.message === "number") finding.message = shared[finding.message];
    }
    const turns = nested(payload.turns);
    const exchanges = nested(payload.exchanges);
    const records = new Map();
    payload.cells.forEach((i, j) => {
      const record = {};
      for (const [key, column] of Object.entries(payload.fields)) {
        const value = column[j];
        if (value === null || value === undefined) continue;
        record[key] = key === "expected" || key === "evidence" ? shared[value] : value;
      }
      if (record.evidence && record.evidence.names) {
        const names = { endpoint: endpointOf(C.b[i]), model: modelOf(C.b[i]), path: index.paths[C.p[i]], scenario: index.scenarios[C.s[i]] };
        const { names: _, ...evidence } = record.evidence;
        record.evidence = { ...evidence, provenance: { ...evidence.provenance, ...names } };
      }
      for (const exchange of exchanges[j]) {
        for (const key of ["request_headers", "response_headers"]) {
          if (key in exchange) exchange[key] = Object.fromEntries(exchange[key].map((at) => shared[at]));
        }
        for (const key of ["request_body", "response_body"]) {
          if (key + "_at" in exchange) exchange[key] = payload.bodies[exchange[key + "_at"]];
        }
      }
      const rest = record.observation;
      record.observation = rest ? { ...rest, turns: turns[j], exchanges: exchanges[j] } : null;
      record.findings = findings[j];
      Object.assign(record, { cell: ids[i], verdict: verdictOf(i), reasons: reasonsOf(i),
        as_expected: C.a[i] === 1 ? true : C.a[i] === 0 ? false : null });
      records.set(i, record);
    });
    return records;
  }

  let sharedValues = null;
  function blockRecords(b) {
    if (!sharedValues) sharedValues = unpack($("drill-shared").textContent);
    if (!loaded.has(b)) {
      loaded.set(b, Promise.all([unpack($("drill-" + b).textContent), sharedValues])
        .then(([payload, shared]) => unpackBlock(payload, shared)));
    }
    return loaded.get(b);
  }

  function link(url, text) {
    if (typeof url === "string" && /^https?:\/\//i.test(url)) {
      return el("a", { href: url, rel: "noopener noreferrer", target: "_blank" }, text || url);
    }
    return el("span", {}, text || url || "");
  }

  function table(rows) {
    return el("table", { class: "kv" }, rows.filter((row) => row[1] !== undefined && row[1] !== null && row[1] !== "")
      .map(([name, value]) => el("tr", {}, el("th", { scope: "row" }, name), el("td", {}, value))));
  }

  function longText(text) {
    // focusable: a long body scrolls inside its box, and a keyboard must reach it (WCAG 2.1.1)
    const pre = el("pre", { tabindex: "0" }, text.length > SHOWN_CHARS ? text.slice(0, SHOWN_CHARS) : text);
    if (text.length <= SHOWN_CHARS) return pre;
    const more = el("button", { type: "button", class: "more" },
      `show all (${text.length.toLocaleString()} characters; ${(text.length - SHOWN_CHARS).toLocaleString()} hidden)`);
    more.addEventListener("click", () => { pre.textContent = text; more.remove(); });
    return el("div", {}, pre, more);
  }

  // A body the page left out (drilldown.py PAGE_BODY_LIMIT) is named with its size and where it is.
  function resolve(exchange, key, where) {
    const size = exchange[key + "_left_out"];
    if (size !== undefined) {
      return el("p", { class: "left-out" }, `A ${key.replace("_body", "")} body of ${size.toLocaleString("en")} characters, ` +
        `left out of this page to keep it light. results.json holds it: in the cell "${where.cell}", ` +
        `observation.exchanges[${where.exchange}].${key}_ref names it under "bodies".`);
    }
    if (exchange[key + "_missing"] !== undefined) return el("p", { class: "warn" }, `(body ${exchange[key + "_missing"]} is missing from this report)`);
    return exchange[key];
  }

  function headerValue(headers, name) {
    for (const [key, values] of Object.entries(headers || {})) {
      if (key.toLowerCase() === name) return [].concat(values).join(", ");
    }
    return "";
  }

  function body(text, contentType) {
    if (text instanceof Node) return text;
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

  function summaryLine(cell, i) {
    const parts = [verdictBadge(cell.verdict), evidenceBadge(i)];
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

  function evidenceSection(cell, i) {
    const evidence = cell.evidence;
    if (!evidence) {
      return section("Evidence", el("p", {}, "No evidence for this cell."),
        cell.record_command ? el("p", {}, "Record it: ", el("code", {}, cell.record_command)) : null);
    }
    const provenance = evidence.provenance || {};
    const banner = !evidence.used
      ? el("p", { class: "notzai" }, "The path consumed none of these bytes (the client refused before sending): the verdict rests on no recorded bytes.")
      : evidence.kind === "double"
      ? el("p", { class: "synthetic" }, "SYNTHETIC: produced by the project's Z.AI double. These are not real Z.AI bytes.")
      : !cell.real ? el("p", { class: "notzai" }, "Recorded against a base URL that is not Z.AI: not real Z.AI bytes.")
        : el("p", {}, evidence.kind === "public"
          ? "Real Z.AI bytes, recorded by another project and imported byte for byte."
          : "Real Z.AI bytes, recorded live by this harness.");
    const warnings = (evidence.warnings || []).map((warning) => el("p", { class: "warn" }, "Evidence warning: ", warning));
    return section("Evidence", el("p", { class: "badges" }, evidenceBadge(i)), banner, warnings,
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

  function exchangeView(cell, exchange, n) {
    const requestType = headerValue(exchange.request_headers, "content-type");
    const responseType = headerValue(exchange.response_headers, "content-type");
    const answered = exchange.status !== null && exchange.status !== undefined;
    return el("div", { class: "exchange" },
      el("h4", {}, `#${n + 1} `, el("code", {}, `${exchange.method} ${exchange.url}`)),
      table([["outcome", exchange.outcome], ["status", answered ? String(exchange.status) : null],
        ["replay miss", exchange.miss]]),
      el("h4", {}, "Request sent"), headers(exchange.request_headers), body(resolve(exchange, "request_body", { cell: cell.cell, exchange: n }), requestType),
      el("h4", {}, answered ? `Response received: ${exchange.status}` : "Response"),
      answered ? [headers(exchange.response_headers), body(resolve(exchange, "response_body", { cell: cell.cell, exchange: n }), responseType)]
        : el("p", { class: "hint" }, "no response"));
  }

  function exchangesSection(cell) {
    const exchanges = (cell.observation && cell.observation.exchanges) || [];
    return section(`Exchanges (${exchanges.length})`, exchanges.length ? exchanges.map((exchange, n) => exchangeView(cell, exchange, n))
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

  function timingSection(cell) {
    const limits = cell.limits || {};
    const rows = [["ran", typeof cell.duration_ms === "number" ? `${cell.duration_ms} ms` : null],
      ["idle limit", limits.idle_s === undefined ? null : `${limits.idle_s} s`],
      ["connect limit", limits.connect_s === undefined ? null : `${limits.connect_s} s`],
      ["harness error", cell.harness_error || null]];
    return rows.some((row) => row[1]) ? section("Timing", table(rows)) : null;
  }

  function render(cell, i) {
    return [
      el("h2", { id: "panel-title", tabindex: "-1" }, cell.cell),
      summaryLine(cell, i),
      reasonsSection(cell),
      expectationSection(cell),
      evidenceSection(cell, i),
      findingsSection(cell),
      exchangesSection(cell),
      turnsSection(cell),
      timingSection(cell),
    ].filter(Boolean);
  }

  // --- opening and closing a cell -------------------------------------------------------------------
  function markSelected(id) {
    for (const td of matrix.querySelectorAll("td.selected")) td.classList.remove("selected");
    const td = id === null ? null : matrix.querySelector(`td[data-cell="${CSS.escape(id)}"]`);
    if (!td) return null;
    td.classList.add("selected");
    td.scrollIntoView({ block: "nearest", inline: "nearest" });
    return td;
  }

  function showPanel(children) {
    panelBody.replaceChildren(...children);
    panel.hidden = false;
    panel.scrollTop = 0;
    document.body.classList.add("panel-open");
  }

  // Shows the cell's matrix (the filters that would hide the cell are cleared) and its drill-down.
  async function openCell(id) {
    const active = document.activeElement;
    opener = active && active !== document.body && !panel.contains(active) ? active : opener;
    openId = id;
    panelLink.setAttribute("href", cellHash(id));
    const i = byId.get(id);
    if (i === undefined) {
      showPanel([el("h2", { id: "panel-title", tabindex: "-1" }, id), el("p", { class: "warn" }, "There is no such cell in this report.")]);
      $("panel-title").focus();
      return;
    }
    const b = C.b[i];
    let view = { ...state, endpoint: endpointOf(b), model: modelOf(b) };
    if (!matches(i, view)) view = { ...defaults(), endpoint: endpointOf(b), model: modelOf(b) };
    state = valid(view);
    syncControls();
    draw();
    markSelected(id);
    showPanel([el("h2", { id: "panel-title", tabindex: "-1" }, id), el("p", { class: "hint" }, "Unpacking this matrix's data…")]);
    $("panel-title").focus();
    let record;
    try {
      record = (await blockRecords(b)).get(i);
    } catch (error) {
      record = null;
    }
    if (openId !== id) return;  // another cell was opened meanwhile
    const focused = panel.contains(document.activeElement);
    showPanel(record ? render(record, i)
      : [el("h2", { id: "panel-title", tabindex: "-1" }, id), el("p", { class: "warn" }, "This cell's drill-down data could not be unpacked; results.json holds it.")]);
    if (focused || document.activeElement === document.body) $("panel-title").focus();
  }

  function hidePanel() {
    if (panel.hidden) return;
    panel.hidden = true;
    document.body.classList.remove("panel-open");
    const id = openId;
    openId = null;
    markSelected(null);
    const link = id === null ? null : matrix.querySelector(`td[data-cell="${CSS.escape(id)}"] a`);
    const back = opener && opener.isConnected && !opener.closest("#matrix") ? opener : link || opener;
    opener = null;
    if (back && back.isConnected) back.focus();
  }

  function closePanel() {
    hidePanel();
    try {
      history.pushState(null, "", viewHash());
    } catch (error) {
      location.hash = viewHash();
    }
  }

  // --- the address ----------------------------------------------------------------------------------
  function decoded(text) {
    try {
      return decodeURIComponent(text);
    } catch (error) {
      return text;
    }
  }

  function route(initial) {
    const hash = location.hash;
    if (hash.startsWith("#cell=")) return openCell(decoded(hash.slice("#cell=".length)));
    if (hash.startsWith("#view=")) {
      hidePanel();
      apply(readView(hash.slice("#view=".length)), { keepHash: true });
      $("detail").scrollIntoView({ block: "start" });
      return null;
    }
    // The addresses of the earlier page: a whole endpoint, or one model's matrix.
    const legacy = /^#(endpoint|model)=(.+)$/.exec(hash);
    if (legacy && !document.getElementById(decoded(hash.slice(1)))) {
      const [endpoint, ...model] = decoded(legacy[2]).split("/");
      hidePanel();
      apply(valid({ endpoint, model: model.length ? model.join("/") : defaultModel(endpoint) }));
      $("detail").scrollIntoView({ block: "start" });
      return null;
    }
    hidePanel();  // an anchor elsewhere on the page: the view stays as it is
    if (initial) draw();
    return null;
  }

  // --- wiring ---------------------------------------------------------------------------------------
  const form = $("controls");
  let typing = null;
  form.addEventListener("submit", (event) => event.preventDefault());
  form.addEventListener("change", (event) => {
    if (event.target === controls.q) return;
    apply(readControls());
  });
  controls.q.addEventListener("input", () => {
    clearTimeout(typing);
    typing = setTimeout(() => apply(readControls()), 200);
  });
  $("f-clear").addEventListener("click", () => {
    apply(valid({ endpoint: state.endpoint, model: state.model, path: state.path, feature: state.feature }));
  });
  results.addEventListener("click", (event) => {
    const button = event.target.closest("button[data-block]");
    if (!button) return;
    const b = Number(button.dataset.block);
    apply(valid({ ...state, endpoint: endpointOf(b), model: modelOf(b) }));
    scroller.focus({ preventScroll: true });
  });
  $("panel-close").addEventListener("click", closePanel);
  document.addEventListener("keydown", (event) => {
    if (event.key === "Escape" && !panel.hidden) {
      event.preventDefault();
      closePanel();
    }
  });
  window.addEventListener("hashchange", () => route(false));
  form.hidden = false;
  syncControls();
  try {
    await route(true);
  } finally {
    root.dataset.ready = "true";
  }
})();
