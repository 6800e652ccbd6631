// Per-API metrics: calls, status classes, APIG error codes and latency of
// each API and environment over apigw's rolling windows (GetAPIMetrics,
// from the access logs of the Envoys connected to this apigw).
import { useState } from "preact/hooks";
import { BarChart, StackedBar } from "../charts";
import { errorCodes, metricsRows, statusSegments, windowOf, windowsFirst, WINDOWS, type MetricsRow } from "../metrics";
import { Card, ErrorBox, Field, Page, Select, Table, TextInput, useApp, useLoad } from "../ui";

export function MetricsPage() {
  const { api, instance, t } = useApp();
  const [win, setWin] = useState("1h");
  const [search, setSearch] = useState("");
  const [picked, setPicked] = useState<string>();
  const m = useLoad(() => api.admin.getAPIMetrics({ instance, api: search.trim(), windows: windowsFirst(win) }), [instance, search, win]);
  const rows = metricsRows(m.data, win);
  const max = Math.max(0, ...rows.map((r) => Number(r.w.calls)));
  const sel = rows.find((r) => r.key === picked) ?? rows[0];
  return (
    <Page
      title={t("API metrics")}
      actions={
        <button class="btn" data-testid="metrics-refresh" onClick={m.reload}>
          {t("Refresh")}
        </button>
      }
    >
      <ErrorBox error={m.error} />
      <div class="form-row">
        <Field label={t("Window")}>
          <Select name="window" value={win} options={WINDOWS.map((w) => [w, t("Last {0}", w)] as [string, string])} onChange={setWin} />
        </Field>
        <Field label={t("API (id or name)")}>
          <TextInput name="metrics-api" value={search} onInput={setSearch} />
        </Field>
      </div>
      {m.data && (
        <p class="muted" data-testid="metrics-streams">
          {t("{0} Envoy access-log streams; {1} APIs tracked one by one per instance", m.data.streams, m.data.maxApis)}
        </p>
      )}
      <Card title={t("Calls by API")}>
        <Table<MetricsRow>
          testid="metrics"
          rows={rows}
          columns={[
            {
              title: t("API"),
              cell: (r) => (
                <button class={"btn-link" + (sel?.key === r.key ? " on" : "")} data-testid={"metrics-api-" + (r.api.apiName || r.api.apiId)} onClick={() => setPicked(r.key)}>
                  {r.api.apiName || r.api.apiId}
                </button>
              ),
            },
            { title: t("Environment"), cell: (r) => r.api.envName || r.api.envId },
            { title: t("Calls"), class: "num", cell: (r) => <span data-testid="calls">{String(r.w.calls)}</span> },
            { title: t("Responses"), cell: (r) => <StackedBar segments={statusSegments(r.w)} max={max} /> },
            { title: t("Denied"), class: "num", cell: (r) => String(r.w.denied) },
            { title: t("Throttled"), class: "num", cell: (r) => String(r.w.throttled) },
            { title: "p50 ms", class: "num", cell: (r) => r.w.latencyP50Ms.toFixed(1) },
            { title: "p99 ms", class: "num", cell: (r) => r.w.latencyP99Ms.toFixed(1) },
          ]}
        />
      </Card>
      {sel && <ApiCharts row={sel} win={win} />}
    </Page>
  );
}

/** The charts of one API: calls per window by status class, latency, error codes. */
function ApiCharts(props: { row: MetricsRow; win: string }) {
  const { t } = useApp();
  const a = props.row.api;
  const w = props.row.w;
  const byWindow = WINDOWS.map((x) => windowOf(a, x));
  return (
    <Card title={t("{0} in {1}", a.apiName || a.apiId, a.envName || a.envId)}>
      <div class="charts" data-testid="metrics-charts">
        <div>
          <h3>{t("Calls per window")}</h3>
          <BarChart
            testid="chart-calls"
            groups={byWindow.map((x) => ({ label: x.window, values: [Number(x.status2xx), Number(x.status1xx + x.status3xx), Number(x.status4xx), Number(x.status5xx)] }))}
            series={[
              { label: "2xx", cls: "s2" },
              { label: "3xx", cls: "s3" },
              { label: "4xx", cls: "s4" },
              { label: "5xx", cls: "s5" },
            ]}
          />
        </div>
        <div>
          <h3>{t("Latency in the last {0}", props.win)}</h3>
          <BarChart
            testid="chart-latency"
            unit=" ms"
            groups={[
              { label: "p50", values: [w.latencyP50Ms, w.backendP50Ms] },
              { label: "p90", values: [w.latencyP90Ms, w.backendP90Ms] },
              { label: "p99", values: [w.latencyP99Ms, w.backendP99Ms] },
            ]}
            series={[
              { label: t("Gateway"), cls: "l1" },
              { label: t("Backend"), cls: "l2" },
            ]}
          />
        </div>
        <div>
          <h3>{t("Error codes in the last {0}", props.win)}</h3>
          <table class="table compact" data-testid="error-codes">
            <tbody>
              {errorCodes(w).map(([code, n]) => (
                <tr>
                  <td>{code}</td>
                  <td class="num">{n}</td>
                </tr>
              ))}
              {errorCodes(w).length === 0 && (
                <tr>
                  <td class="muted">{t("No data")}</td>
                </tr>
              )}
            </tbody>
          </table>
        </div>
      </div>
    </Card>
  );
}
