import { Badge, Card, ErrorBox, Loading, Page, Table, useApp, useLoad } from "../ui";
import { timestampDate } from "@bufbuild/protobuf/wkt";

const tiles: [string, string][] = [
  ["group", "API Groups"],
  ["api", "APIs"],
  ["environment", "Environments"],
  ["app", "Apps"],
  ["throttle", "Throttling policies"],
  ["vpc_channel", "Load balance channels"],
];

const kindPages: Record<string, string> = {
  group: "groups",
  api: "apis",
  environment: "environments",
  app: "apps",
  throttle: "throttles",
  acl: "acls",
  vpc_channel: "channels",
  authorizer: "authorizers",
  app_quota: "app_quotas",
  certificate: "certificates",
  response: "responses",
  env_variable: "env_variables",
  plugin: "plugins",
  signature: "signatures",
  orchestration: "orchestrations",
};

export function Overview() {
  const { api, instance, t } = useApp();
  const ov = useLoad(() => api.debug.overview({ instance }), [instance]);
  const st = useLoad(() => api.admin.getStatus({ instance }), [instance]);
  if (ov.loading && !ov.data) return <Loading />;
  const o = ov.data;
  const s = st.data;
  return (
    <Page
      title={t("Overview")}
      actions={
        <button
          class="btn"
          onClick={() => {
            ov.reload();
            st.reload();
          }}
        >
          {t("Refresh")}
        </button>
      }
    >
      <ErrorBox error={ov.error || st.error} />
      {o && (
        <div class="tiles" data-testid="overview">
          <div class="tile">
            <div class="tile-label">{t("Revision")}</div>
            <div class="tile-value">{String(o.revision)}</div>
          </div>
          {tiles.map(([kind, label]) => (
            <a class="tile" href={"#/" + kindPages[kind]}>
              <div class="tile-label">{t(label)}</div>
              <div class="tile-value" data-testid={"count-" + kind}>
                {o.kinds.find((k) => k.kind === kind)?.count ?? 0}
              </div>
            </a>
          ))}
        </div>
      )}
      {o && (
        <Card title={t("APIs by state")}>
          <div class="bars" data-testid="api-states">
            {o.published.map((e) => (
              <div class="bar-row">
                <span>{t("Published in {0}", e.envName)}</span>
                <b>{e.apis}</b>
              </div>
            ))}
            <div class="bar-row">
              <span>{t("Not published")}</span>
              <b>{o.unpublished}</b>
            </div>
          </div>
          <p class="muted small">
            <a href="#/metrics">{t("API metrics")}</a> · <a href="#/audit">{t("Audit log")}</a>
          </p>
        </Card>
      )}
      {s && (
        <Card title={t("Envoy nodes")}>
          <Table
            rows={s.nodes}
            columns={[
              { title: t("Node"), cell: (n) => n.nodeId },
              { title: t("Cluster"), cell: (n) => n.cluster },
              { title: t("Resource type"), cell: (n) => n.typeUrl.replace(/^.*\//, "") },
              { title: t("Acknowledged version"), cell: (n) => n.ackedVersion },
              { title: t("Last NACK"), cell: (n) => (n.lastNack ? <Badge kind="error">{n.lastNack}</Badge> : t("None")) },
              { title: t("Last seen"), cell: (n) => (n.lastSeen ? timestampDate(n.lastSeen).toLocaleString() : "") },
            ]}
          />
        </Card>
      )}
      {s && (
        <Card title={t("API problems")}>
          <Table
            rows={s.apiProblems}
            columns={[
              { title: t("API"), cell: (p) => <a href={"#/apis/" + p.apiId}>{p.apiId}</a> },
              { title: t("Environment"), cell: (p) => p.envId },
              { title: t("Reason"), cell: (p) => p.reason },
            ]}
          />
        </Card>
      )}
      {s && (
        <Card title={t("Invalid objects")}>
          <Table
            rows={s.invalidObjects}
            columns={[
              { title: t("Key"), cell: (p) => <code>{p.key}</code> },
              { title: t("Revision"), cell: (p) => String(p.modRevision) },
              { title: t("Reason"), cell: (p) => p.reason },
            ]}
          />
        </Card>
      )}
    </Page>
  );
}
