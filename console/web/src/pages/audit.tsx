// The audit log: who changed which definitions, when, at which etcd
// revision (ListAuditEvents), newest first, filtered on the server.
import { useState } from "preact/hooks";
import { timestampDate } from "@bufbuild/protobuf/wkt";
import type { AuditEvent } from "../gen/apigw/admin/v1/audit_pb";
import { Badge, Card, ErrorBox, Field, Page, Select, Table, TextInput, useApp, useLoad } from "../ui";

const operations = ["", "create", "update", "delete", "apply", "publish", "unpublish", "rollback", "publish_batch", "bind", "unbind", "reset_app_secret", "etcd"];

export function AuditPage() {
  const { api, instance, t } = useApp();
  const [caller, setCaller] = useState("");
  const [operation, setOperation] = useState("");
  const [object, setObject] = useState("");
  const [limit, setLimit] = useState("100");
  const ev = useLoad(
    () => api.admin.listAuditEvents({ instance, caller: caller.trim(), operation, object: object.trim(), limit: Number(limit) }),
    [instance, caller, operation, object, limit],
  );
  return (
    <Page
      title={t("Audit log")}
      actions={
        <button class="btn" onClick={ev.reload}>
          {t("Refresh")}
        </button>
      }
    >
      <div class="form-row">
        <Field label={t("Operation")}>
          <Select name="audit-operation" value={operation} options={operations.map((o) => [o, o || t("All")] as [string, string])} onChange={setOperation} />
        </Field>
        <Field label={t("Caller")}>
          <TextInput name="audit-caller" value={caller} onInput={setCaller} placeholder="token, cert:…, etcd" />
        </Field>
        <Field label={t("Object (id or name)")}>
          <TextInput name="audit-object" value={object} onInput={setObject} />
        </Field>
        <Field label={t("Newest")}>
          <Select name="audit-limit" value={limit} options={["20", "100", "1000"]} onChange={setLimit} />
        </Field>
      </div>
      <ErrorBox error={ev.error} />
      <Card>
        <Table<AuditEvent>
          testid="audit"
          rows={ev.data?.events ?? []}
          columns={[
            { title: t("Time"), cell: (e) => (e.time ? timestampDate(e.time).toLocaleString() : "") },
            { title: t("Caller"), cell: (e) => e.caller },
            { title: t("Operation"), cell: (e) => <span data-testid="audit-op">{e.operation}</span> },
            { title: t("Revision"), class: "num", cell: (e) => String(e.revision) },
            {
              title: t("Objects"),
              cell: (e) => (
                <ul class="plain">
                  {e.objects.map((o) => (
                    <li>
                      <Badge kind={o.action === "deleted" ? "error" : o.action === "created" ? "ok" : "info"}>{t(o.action)}</Badge> {o.kind} <b>{o.name || o.id}</b>
                      {o.changedFields.length > 0 && <span class="muted"> · {o.changedFields.join(", ")}</span>}
                    </li>
                  ))}
                </ul>
              ),
            },
            { title: t("Outcome"), cell: (e) => <span class="muted">{t(e.outcome)}</span> },
          ]}
        />
      </Card>
    </Page>
  );
}
