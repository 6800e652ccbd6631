// Publishing an API: the draft's diff against the publication current in
// the environment, publish, the retained records (history) with rollback,
// and unpublish.
import { useState } from "preact/hooks";
import { timestampDate } from "@bufbuild/protobuf/wkt";
import { changed, diffLines, hunks } from "../diff";
import { kind, toYAML, unwrap } from "../resources";
import { Badge, Card, ErrorBox, Field, Loading, Page, Select, Table, TextInput, useApp, useLoad } from "../ui";
import { useEnvs } from "./bindings";

const apiKind = kind("api");

/** Fields that differ between a draft and its publication by nature. */
function comparable(yaml: string): string {
  return yaml
    .split("\n")
    .filter((l) => !/^(id|meta):/.test(l))
    .join("\n");
}

export function PublishPage(props: { id: string }) {
  const { api, instance, t, toast } = useApp();
  const envs = useEnvs();
  const [env, setEnv] = useState("RELEASE");
  const [version, setVersion] = useState("");
  const [remark, setRemark] = useState("");
  const [err, setErr] = useState<unknown>();
  const draft = useLoad(() => api.admin.get({ instance, kind: "api", id: props.id }), [instance, props.id]);
  const pubs = useLoad(() => api.admin.listPublications({ instance, apiId: props.id, envId: env }), [instance, props.id, env]);
  const a = unwrap(draft.data?.resource);
  if (!a) return draft.error ? <ErrorBox error={draft.error} /> : <Loading />;
  const current = pubs.data?.publications.find((p) => p.id === pubs.data?.currentPublicationId);
  const diff = diffLines(current?.api ? comparable(toYAML(apiKind, current.api)) : "", comparable(toYAML(apiKind, a)));
  const run = async (what: () => Promise<unknown>, msg: string) => {
    try {
      await what();
      setErr(undefined);
      toast(msg);
      pubs.reload();
    } catch (e) {
      setErr(e);
    }
  };
  return (
    <Page title={`${t("Publish API")} · ${a.name}`}>
      <ErrorBox error={err || pubs.error} />
      <Card title={t("Publish")}>
        <div class="form-row">
          <Field label={t("Environment")}>
            <Select name="env" value={env} options={envs} onChange={setEnv} />
          </Field>
          <Field label={t("Version")}>
            <TextInput name="version" value={version} onInput={setVersion} />
          </Field>
          <Field label={t("Remark")}>
            <TextInput name="remark" value={remark} onInput={setRemark} />
          </Field>
        </div>
        <div class="form-actions">
          <button
            class="btn primary"
            data-testid="publish"
            onClick={() => run(() => api.admin.publish({ instance, apiId: props.id, envId: env, version, remark }), t("Published {0} to {1}", a.name, env))}
          >
            {t("Publish")}
          </button>
          <button
            class="btn"
            disabled={!current}
            onClick={() => run(() => api.admin.unpublish({ instance, apiId: props.id, envId: env }), t("Took {0} offline in {1}", a.name, env))}
          >
            {t("Unpublish")}
          </button>
        </div>
        <h3>{t("Changes against the current publication")}</h3>
        {changed(diff) ? (
          <pre class="diff" data-testid="diff">
            {hunks(diff).map((l) =>
              l === null ? (
                <div class="gap">⋯</div>
              ) : (
                <div class={l.op === "+" ? "add" : l.op === "-" ? "del" : ""}>
                  {l.op} {l.text}
                </div>
              ),
            )}
          </pre>
        ) : (
          <p class="muted">{t("No changes")}</p>
        )}
      </Card>
      <Card title={t("Publication history")}>
        {pubs.loading && !pubs.data ? (
          <Loading />
        ) : (
          <Table
            testid="history"
            rows={pubs.data?.publications ?? []}
            columns={[
              { title: t("Version"), cell: (p) => p.version || p.id.slice(0, 8) },
              { title: t("Published at"), cell: (p) => (p.publishTime ? timestampDate(p.publishTime).toLocaleString() : "") },
              { title: t("Remark"), cell: (p) => p.remark },
              { title: t("Backend URL"), cell: (p) => p.api?.backendApi?.urlDomain ?? "" },
              {
                title: t("Status"),
                cell: (p) => (p.id === pubs.data?.currentPublicationId ? <Badge kind="ok">{t("Current")}</Badge> : ""),
              },
              {
                title: t("Operation"),
                cell: (p) =>
                  p.id !== pubs.data?.currentPublicationId && (
                    <button
                      class="btn-link"
                      data-testid={"rollback-" + (p.version || p.id)}
                      onClick={() => run(() => api.admin.rollback({ instance, apiId: props.id, envId: env, publicationId: p.id }), t("Rolled back {0} in {1}", a.name, env))}
                    >
                      {t("Roll back")}
                    </button>
                  ),
              },
            ]}
          />
        )}
      </Card>
    </Page>
  );
}
