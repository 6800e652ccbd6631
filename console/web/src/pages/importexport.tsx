// OpenAPI import (dry run, then apply) and export, served by the admin
// API's OpenAPIService with the code of `apigctl import` / `apigctl export`.
import { useState } from "preact/hooks";
import type { ImportOpenAPIResponse } from "../gen/apigw/admin/v1/openapi_pb";
import { fieldViolations } from "../errors";
import { displayName, unwrap } from "../resources";
import { Card, ErrorBox, Field, Page, Select, Table, TextInput, text, useApp } from "../ui";
import { useGroups } from "./apis";
import { useEnvs } from "./bindings";

export function ImportExport() {
  const { t } = useApp();
  return (
    <Page title={t("Import / export")}>
      <Import />
      <Export />
    </Page>
  );
}

function Import() {
  const { api, instance, t, toast } = useApp();
  const envs = useEnvs();
  const [doc, setDoc] = useState("");
  const [group, setGroup] = useState("");
  const [env, setEnv] = useState("RELEASE");
  const [conflict, setConflict] = useState("fail");
  const [result, setResult] = useState<{ res: ImportOpenAPIResponse; dryRun: boolean }>();
  const [err, setErr] = useState<unknown>();
  const run = async (dryRun: boolean) => {
    try {
      const res = await api.openapi.importOpenAPI({ instance, document: new TextEncoder().encode(doc), group, envId: env, conflict, dryRun });
      setResult({ res, dryRun });
      setErr(undefined);
      if (!dryRun) toast(t("Imported {0} objects", res.results.length));
    } catch (e) {
      setErr(e);
      setResult(undefined);
    }
  };
  return (
    <Card title={t("Import OpenAPI")}>
      <p class="muted">{t("Paste or choose a Swagger 2.0 / OpenAPI 3 document (YAML or JSON).")}</p>
      <input
        type="file"
        name="file"
        accept=".yaml,.yml,.json"
        onChange={async (e) => {
          const f = (e.target as HTMLInputElement).files?.[0];
          if (f) setDoc(await f.text());
        }}
      />
      <textarea name="document" class="doc" rows={12} spellcheck={false} value={doc} onInput={(e) => setDoc((e.target as HTMLTextAreaElement).value)} />
      <div class="form-row">
        <Field label={t("Group (default: info.title)")}>
          <TextInput name="import-group" value={group} onInput={setGroup} />
        </Field>
        <Field label={t("Environment")}>
          <Select name="import-env" value={env} options={envs} onChange={setEnv} />
        </Field>
        <Field label={t("On conflict")}>
          <Select
            name="conflict"
            value={conflict}
            options={[
              ["fail", t("Fail")],
              ["skip", t("Skip")],
              ["overwrite", t("Overwrite")],
            ]}
            onChange={setConflict}
          />
        </Field>
      </div>
      <div class="form-actions">
        <button class="btn" data-testid="dry-run" disabled={!doc} onClick={() => run(true)}>
          {t("Dry run")}
        </button>
        <button class="btn primary" data-testid="import" disabled={!doc || !result?.dryRun} onClick={() => run(false)}>
          {t("Apply")}
        </button>
      </div>
      <ErrorBox error={err} />
      {err !== undefined &&
        fieldViolations(err).map((v) => (
          <div class="violation">
            <code>{v.field}</code>: {v.description}
          </div>
        ))}
      {result && (
        <div data-testid={result.dryRun ? "dry-run-result" : "import-result"}>
          <h3>{result.dryRun ? t("Dry run") : t("Apply")}</h3>
          {result.res.warnings.length > 0 && (
            <div class="warn">
              {t("Warnings")}: {result.res.warnings.join("; ")}
            </div>
          )}
          <Table
            rows={result.res.results}
            columns={[
              { title: t("Kind"), cell: (r) => r.kind },
              { title: t("Name"), cell: (r) => r.name || displayName(unwrap(r.resource)) },
              { title: t("Action"), cell: (r) => <span class={"action " + r.action}>{r.action}</span> },
            ]}
          />
        </div>
      )}
    </Card>
  );
}

function Export() {
  const { api, instance, t } = useApp();
  const groups = useGroups();
  const envs = useEnvs();
  const [group, setGroup] = useState("");
  const [env, setEnv] = useState("RELEASE");
  const [format, setFormat] = useState("2.0");
  const [draft, setDraft] = useState(false);
  const [out, setOut] = useState("");
  const [err, setErr] = useState<unknown>();
  const g = group || groups.data?.[0]?.id || "";
  return (
    <Card title={t("Export OpenAPI")}>
      <div class="form-row">
        <Field label={t("Group")}>
          <Select name="export-group" value={g} options={(groups.data ?? []).map((x) => [x.id, x.name] as [string, string])} onChange={setGroup} />
        </Field>
        <Field label={t("Environment")}>
          <Select name="export-env" value={env} options={envs} onChange={setEnv} />
        </Field>
        <Field label={t("Format")}>
          <Select name="format" value={format} options={["2.0", "3.0"]} onChange={setFormat} />
        </Field>
        <Field label={t("Draft definitions")}>
          <input type="checkbox" name="draft" checked={draft} onChange={(e) => setDraft((e.target as HTMLInputElement).checked)} />
        </Field>
      </div>
      <button
        class="btn primary"
        data-testid="export"
        disabled={!g}
        onClick={async () => {
          try {
            const r = await api.openapi.exportOpenAPI({ instance, group: g, envId: env, format, draft });
            setOut(text(r.document));
            setErr(undefined);
          } catch (e) {
            setErr(e);
          }
        }}
      >
        {t("Export")}
      </button>
      <ErrorBox error={err} />
      {out && (
        <>
          <a class="btn" download="openapi.yaml" href={URL.createObjectURL(new Blob([out], { type: "application/yaml" }))}>
            {t("Download")}
          </a>
          <pre class="code" data-testid="exported">
            {out}
          </pre>
        </>
      )}
    </Card>
  );
}
