// OpenCPMS web UI: live updates (server-sent events), commands through the admin API, the
// transaction chart. No build step; Chart.js comes from the npm registry (make install).
"use strict";

const OpenCPMS = (() => {
  const csrf = () => document.querySelector('meta[name="csrf-token"]').content;

  // Calls fn once after a burst of notices, and again a little later: the read model that a
  // page re-reads may commit a moment after the event that announced the change.
  function settle(fn) {
    let timers = [];
    return () => {
      timers.forEach(clearTimeout);
      timers = [setTimeout(fn, 300), setTimeout(fn, 2000)];
    };
  }

  function live(onNotice) {
    const state = document.getElementById("live-state");
    const source = new EventSource("/ui/live");
    source.onopen = () => state && state.classList.add("on");
    source.onerror = () => state && state.classList.remove("on");
    source.onmessage = (message) => onNotice(JSON.parse(message.data));
    return source;
  }

  async function replaceParts(selectors) {
    const response = await fetch(location.href, { headers: { Accept: "text/html" } });
    if (!response.ok) return;
    const fresh = new DOMParser().parseFromString(await response.text(), "text/html");
    for (const selector of selectors) {
      const now = document.querySelector(selector);
      const next = fresh.querySelector(selector);
      if (now && next) now.replaceWith(next);
    }
    bindStopButtons();
  }

  function dashboard() {
    const kwh = (wh) => wh === null ? "—" : `${(wh / 1000).toLocaleString("en", { minimumFractionDigits: 2, maximumFractionDigits: 2 })} kWh`;
    const refresh = settle(async () => {
      const response = await fetch("/ui/dashboard.json");
      if (!response.ok) return;
      const f = await response.json();
      const set = (id, value) => { document.getElementById(id).textContent = value; };
      set("stations-online", f.stations.online);
      set("stations-offline", f.stations.offline);
      set("stations-faulted", f.stations.faulted);
      set("connectors-available", f.connectors.available);
      set("connectors-occupied", f.connectors.occupied);
      set("connectors-faulted", f.connectors.faulted);
      set("running", f.running ?? "—");
      set("energy-today", kwh(f.energy_today_wh));
      set("energy-month", kwh(f.energy_month_wh));
    });
    live(refresh);
  }

  function reloadOnChange() {
    live(settle(() => replaceParts(["main table"])));
  }

  let stationId = null;

  async function command(payload) {
    const answer = document.getElementById("command-answer");
    answer.textContent = `sending ${payload.kind}…`;
    const response = await fetch(`/api/v1/stations/${encodeURIComponent(stationId)}/commands`, {
      method: "POST",
      headers: { "Content-Type": "application/json", "X-CSRF-Token": csrf() },
      body: JSON.stringify({ command: payload }),
    });
    const body = await response.json();
    answer.textContent = response.ok
      ? `${body.action}: ${body.status ?? "(no status)"}\n${JSON.stringify(body.data, null, 2)}`
      : `${response.status} ${body.code ?? ""}: ${body.message ?? JSON.stringify(body.detail)}`;
    answer.dataset.status = response.ok ? body.status : `error:${body.code ?? response.status}`;
  }

  function commandFrom(form) {
    const data = new FormData(form);
    const number = (name) => Number(data.get(name));
    switch (form.dataset.command) {
      case "remote_start":
        return { kind: "remote_start", id_token: { value: data.get("id_token") }, evse_id: number("evse_id") };
      case "reset":
        return { kind: "reset", type: data.get("type") };
      case "unlock_connector":
        return { kind: "unlock_connector", evse_id: number("evse_id"), connector_id: number("connector_id") };
      case "change_availability":
        return { kind: "change_availability", evse_id: number("evse_id"), operative: data.get("operative") === "true" };
    }
    return null;
  }

  function bindStopButtons() {
    document.querySelectorAll("button[data-stop]").forEach((button) => {
      button.onclick = () => command({ kind: "remote_stop", station_transaction_id: button.dataset.stop });
    });
  }

  function station(id) {
    stationId = id;
    document.querySelectorAll("form[data-command]").forEach((form) => {
      form.addEventListener("submit", (event) => {
        event.preventDefault();
        command(commandFrom(form));
      });
    });
    bindStopButtons();
    const refresh = settle(() => replaceParts(["#connection", "#connectors", "#transactions", "#last-seen", "#vendor", "#ocpp-version"]));
    live((notice) => { if (notice.station_id === id) refresh(); });
  }

  function transactionChart(series) {
    const note = document.getElementById("chart-note");
    if (typeof Chart === "undefined") {
      note.textContent = "The chart library is not installed (run make install).";
      return;
    }
    if (!series.length) {
      note.textContent = "No meter values to chart yet.";
      return;
    }
    const points = (key) => series.filter((p) => key in p).map((p) => ({ x: Date.parse(p.at), y: p[key] }));
    new Chart(document.getElementById("chart"), {
      type: "line",
      data: {
        datasets: [
          { label: "Power (W)", data: points("power_w"), yAxisID: "power", borderColor: "#d9480f" },
          { label: "Energy register (Wh)", data: points("energy_wh"), yAxisID: "energy", borderColor: "#1864ab" },
        ],
      },
      options: {
        animation: false,
        maintainAspectRatio: false,
        parsing: false,
        scales: {
          x: { type: "linear", ticks: { callback: (v) => new Date(v).toISOString().slice(11, 19) } },
          power: { position: "left", title: { display: true, text: "W" } },
          energy: { position: "right", title: { display: true, text: "Wh" }, grid: { drawOnChartArea: false } },
        },
      },
    });
    document.getElementById("chart").dataset.ready = "true";
  }

  return { dashboard, reloadOnChange, station, transactionChart };
})();
