// The passive health of a load-balance channel's members: how they
// answered the Envoys connected to this apigw over the last minutes, from
// their access logs (GetChannelHealth).
import { timestampDate } from "@bufbuild/protobuf/wkt";
import { Badge, Card, ErrorBox, Loading, Table, useApp, useLoad } from "../ui";

const stateBadge: Record<string, "ok" | "warn" | "error" | "info"> = {
  healthy: "ok",
  degraded: "warn",
  unhealthy: "error",
  no_traffic: "info",
};

export function ChannelHealth(props: { channelId: string }) {
  const { api, instance, t } = useApp();
  const h = useLoad(() => api.admin.getChannelHealth({ instance, channel: props.channelId }), [instance, props.channelId]);
  return (
    <Card title={t("Member health")}>
      <ErrorBox error={h.error} />
      {h.loading && !h.data ? (
        <Loading />
      ) : (
        h.data && (
          <>
            <p class="muted">{t("Calls of the last {0} seen in the access logs of {1} Envoy streams; a member without calls is not known to be healthy.", h.data.window, h.data.streams)}</p>
            <Table
              testid="member-health"
              rows={h.data.members}
              columns={[
                { title: t("Address"), cell: (m) => <code>{m.address}</code> },
                { title: t("Role"), cell: (m) => (!m.configured ? t("not in the definition") : m.isBackup ? t("backup") : t("member")) },
                { title: t("State"), cell: (m) => <Badge kind={stateBadge[m.state] ?? "info"}>{t(m.state)}</Badge> },
                { title: t("Calls"), class: "num", cell: (m) => String(m.calls) },
                { title: t("Failures"), class: "num", cell: (m) => String(m.failures) },
                { title: t("Last failure"), cell: (m) => (m.lastFailure ? `${timestampDate(m.lastFailure).toLocaleString()} ${m.lastFailureReason}` : "-") },
              ]}
            />
          </>
        )
      )}
    </Card>
  );
}
