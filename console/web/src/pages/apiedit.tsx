// The API editor: frontend definition, request parameters, backend (HTTP,
// load-balance channel, mock, function), backend parameters and policy
// backends, as a form and as YAML. Server-side violations are shown on the
// field they name.
import { useState } from "preact/hooks";
import type { FieldViolation } from "../errors";
import { violationsFor } from "../errors";
import { blank, getPath, kind, setPath, unwrap, type AnyMsg } from "../resources";
import { Card, ErrorBox, Field, Loading, Page, Select, TextInput, useApp, useLoad } from "../ui";
import { useGroups } from "./apis";
import { Editor } from "./resources";

const apiKind = kind("api");
const METHODS = ["GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS", "ANY"];

function newApi(group: string): AnyMsg {
  return blank(apiKind, {
    groupId: group,
    reqProtocol: "HTTPS",
    reqMethod: "GET",
    reqUri: "/",
    matchMode: "NORMAL",
    authType: "APP",
    authOpt: { appCodeAuthType: "DISABLE" },
    backendType: "HTTP",
    backendApi: { reqProtocol: "HTTP", reqMethod: "GET", reqUri: "/", timeout: 5000 },
  });
}

export function ApiEditor(props: { id?: string }) {
  const { api, instance, t, go } = useApp();
  const groups = useGroups();
  const [msg, setMsg] = useState<AnyMsg | undefined>(props.id ? undefined : newApi(""));
  const loaded = useLoad(async () => {
    if (!props.id) return undefined;
    const r = await api.admin.get({ instance, kind: "api", id: props.id });
    setMsg(unwrap(r.resource));
    return r;
  }, [instance, props.id]);
  if (!msg) return loaded.error ? <ErrorBox error={loaded.error} /> : <Loading />;
  if (!msg.groupId && groups.data?.length) {
    setMsg(setPath(apiKind.schema, msg, "group_id", groups.data[0].id));
  }
  const paths = formPaths(msg);
  return (
    <Page
      title={props.id ? `${t("Edit API")} · ${msg.name}` : t("Create API")}
      actions={
        props.id && (
          <>
            <a class="btn" href={"#/publish/" + props.id}>
              {t("Publish")}
            </a>
            <a class="btn" href={"#/debug/" + props.id}>
              {t("Debug")}
            </a>
          </>
        )
      }
    >
      <Card>
        <Editor
          k={apiKind}
          msg={msg}
          setMsg={setMsg}
          formPaths={paths}
          form={(vs) => <ApiForm msg={msg} set={setMsg} vs={vs} groups={groups.data ?? []} />}
          onSaved={(r) => go("#/apis/" + unwrap(r)!.id)}
        />
      </Card>
    </Page>
  );
}

/** The paths the form shows (violations of others go to the top). */
function formPaths(m: AnyMsg): string[] {
  const p = ["name", "group_id", "req_protocol", "req_method", "req_uri", "match_mode", "auth_type", "auth_opt.app_code_auth_type", "authorizer_id", "cors", "tags", "remark",
    "backend_type", "backend_api", "backend_api.req_protocol", "backend_api.req_method", "backend_api.url_domain", "backend_api.req_uri", "backend_api.timeout",
    "backend_api.vpc_channel_info.vpc_channel_id", "mock_info", "mock_info.status_code", "mock_info.result_content", "func_info", "func_info.function_urn"];
  (m.reqParams ?? []).forEach((_: unknown, i: number) => ["name", "location", "type", "required", "default_value"].forEach((f) => p.push(`req_params[${i}].${f}`)));
  (m.backendParams ?? []).forEach((_: unknown, i: number) => ["name", "location", "origin", "value"].forEach((f) => p.push(`backend_params[${i}].${f}`)));
  return p;
}

function ApiForm(props: { msg: AnyMsg; set: (m: AnyMsg) => void; vs: FieldViolation[]; groups: AnyMsg[] }) {
  const { t } = useApp();
  const m = props.msg;
  const set = (path: string, v: unknown) => props.set(setPath(apiKind.schema, m, path, v));
  const str = (path: string) => String(getPath(m, path) ?? "");
  const text = (label: string, path: string, placeholder?: string) => (
    <Field label={label} path={path} violations={props.vs}>
      <TextInput name={path} value={str(path)} placeholder={placeholder} onInput={(v) => set(path, v)} />
    </Field>
  );
  const select = (label: string, path: string, options: (string | [string, string])[]) => (
    <Field label={label} path={path} violations={props.vs}>
      <Select name={path} value={str(path)} options={options} onChange={(v) => set(path, v)} />
    </Field>
  );
  const num = (label: string, path: string) => (
    <Field label={label} path={path} violations={props.vs}>
      <input type="number" name={path} value={str(path)} onInput={(e) => set(path, Number((e.target as HTMLInputElement).value) || 0)} />
    </Field>
  );
  // 4: the channel's member groups, each with its URL (kept when the box is ticked again).
  const channel = m.backendApi?.vpcChannelStatus === 1 || m.backendApi?.vpcChannelStatus === 4;
  const channelOn = m.backendApi?.memberGroupUrlInfos?.length ? 4 : 1;
  return (
    <div>
      <h3>{t("Frontend definition")}</h3>
      <div class="form-grid">
        {text(t("Name"), "name")}
        {select(t("Group"), "group_id", props.groups.map((g) => [g.id, g.name] as [string, string]))}
        {select(t("Protocol"), "req_protocol", ["HTTPS", "HTTP", "BOTH"])}
        {select(t("Method"), "req_method", METHODS)}
        {text(t("Path"), "req_uri", "/pets/{id}")}
        {select(t("Matching"), "match_mode", [
          ["NORMAL", t("Exact match")],
          ["SWA", t("Prefix match")],
        ])}
        {select(t("Security authentication"), "auth_type", [
          ["APP", t("App authentication")],
          ["IAM", t("IAM authentication")],
          ["AUTHORIZER", t("Custom authentication")],
          ["NONE", t("No authentication")],
        ])}
        {m.authType === "APP" && select("AppCode", "auth_opt.app_code_auth_type", ["DISABLE", "HEADER"])}
        {m.authType === "AUTHORIZER" && text(t("Custom authorizers"), "authorizer_id")}
        <Field label={t("CORS")} path="cors" violations={props.vs}>
          <input type="checkbox" name="cors" checked={!!m.cors} onChange={(e) => set("cors", (e.target as HTMLInputElement).checked)} />
        </Field>
        <Field label={t("Tags")} path="tags" violations={props.vs}>
          <TextInput name="tags" value={(m.tags ?? []).join(", ")} onInput={(v) => set("tags", v.split(",").map((x) => x.trim()).filter(Boolean))} />
        </Field>
        {text(t("Remark"), "remark")}
      </div>
      <h3>{t("Request parameters")}</h3>
      <Rows
        msg={m}
        set={props.set}
        list="req_params"
        vs={props.vs}
        cols={[
          ["name", t("Name"), "text"],
          ["location", t("Location"), ["PATH", "QUERY", "HEADER", "COOKIE"]],
          ["type", t("Type"), ["STRING", "NUMBER"]],
          ["required", t("Required"), [["1", "yes"], ["2", "no"]]],
          ["default_value", t("Default"), "text"],
        ]}
        init={{ location: "QUERY", type: "STRING", required: 2 }}
      />
      <h3>{t("Backend definition")}</h3>
      <div class="form-grid">
        {select(t("Backend type"), "backend_type", ["HTTP", "MOCK", "FUNCTION"])}
        {m.backendType === "HTTP" && (
          <>
            {select(t("Protocol"), "backend_api.req_protocol", ["HTTP", "HTTPS"])}
            {select(t("Method"), "backend_api.req_method", METHODS)}
            <Field label={t("Load balance channels")} path="backend_api.vpc_channel_status" violations={props.vs}>
              <input type="checkbox" name="use-channel" checked={channel} onChange={(e) => set("backend_api.vpc_channel_status", (e.target as HTMLInputElement).checked ? channelOn : 2)} />
            </Field>
            {channel ? text(t("Load balance channels"), "backend_api.vpc_channel_info.vpc_channel_id") : text(t("Backend URL"), "backend_api.url_domain", "backend.example.com:8080")}
            {text(t("Backend path"), "backend_api.req_uri", "/v1/pets/{id}")}
            {num(t("Timeout (ms)"), "backend_api.timeout")}
          </>
        )}
        {m.backendType === "MOCK" && (
          <>
            {num(t("Mock status code"), "mock_info.status_code")}
            <Field label={t("Mock response")} path="mock_info.result_content" violations={props.vs} wide>
              <textarea name="mock_info.result_content" rows={4} value={str("mock_info.result_content")} onInput={(e) => set("mock_info.result_content", (e.target as HTMLTextAreaElement).value)} />
            </Field>
          </>
        )}
        {m.backendType === "FUNCTION" && text("function_urn", "func_info.function_urn")}
      </div>
      {["backend_api", "mock_info", "func_info"].map((p) =>
        violationsFor(props.vs, p).map((v) => (
          <div class="field-error" role="alert">
            <code>{p}</code>: {v.description}
          </div>
        )),
      )}
      <h3>{t("Backend parameters")}</h3>
      <Rows
        msg={m}
        set={props.set}
        list="backend_params"
        vs={props.vs}
        cols={[
          ["name", t("Name"), "text"],
          ["location", t("Location"), ["PATH", "QUERY", "HEADER"]],
          ["origin", t("Origin"), ["REQUEST", "CONSTANT", "SYSTEM"]],
          ["value", t("Value"), "text"],
        ]}
        init={{ location: "HEADER", origin: "CONSTANT" }}
      />
      <h3>{t("Policy backends")}</h3>
      <ul class="plain" data-testid="policy-backends">
        {(m.policyHttps ?? []).map((p: AnyMsg) => (
          <li>
            <b>{p.name}</b> · {p.effectMode} · {t("Conditions")}: {(p.conditions ?? []).length} · {p.urlDomain || p.vpcChannelInfo?.vpcChannelId}
          </li>
        ))}
        {(m.policyMocks ?? []).map((p: AnyMsg) => (
          <li>
            <b>{p.name}</b> · MOCK · {t("Conditions")}: {(p.conditions ?? []).length}
          </li>
        ))}
      </ul>
      <p class="muted small">{t("Edit policy backends in the YAML tab.")}</p>
    </div>
  );
}

type Col = [string, string, "text" | (string | [string, string])[]];

/** A table of repeated messages (parameters) with add and remove. */
function Rows(props: { msg: AnyMsg; set: (m: AnyMsg) => void; list: string; cols: Col[]; vs: FieldViolation[]; init: Record<string, unknown> }) {
  const { t } = useApp();
  const rows: AnyMsg[] = getPath(props.msg, props.list) as AnyMsg[];
  const setCell = (i: number, f: string, v: unknown) => props.set(setPath(apiKind.schema, props.msg, `${props.list}[${i}].${f}`, v));
  const add = () => {
    const schema = apiKind.schema.fields.find((x) => x.name === props.list)!.message!;
    props.set(setPath(apiKind.schema, props.msg, props.list, [...rows, blank({ name: props.list, local: "", schema }, props.init)]));
  };
  const remove = (i: number) => props.set(setPath(apiKind.schema, props.msg, props.list, rows.filter((_, j) => j !== i)));
  return (
    <table class="table rows" data-testid={props.list}>
      <thead>
        <tr>
          {props.cols.map((c) => (
            <th>{c[1]}</th>
          ))}
          <th />
        </tr>
      </thead>
      <tbody>
        {rows.map((r, i) => (
          <tr>
            {props.cols.map(([f, , kind]) => {
              const path = `${props.list}[${i}].${f}`;
              const v = String(getPath(props.msg, path) ?? "");
              const vs = violationsFor(props.vs, path);
              return (
                <td class={vs.length ? "invalid" : ""} data-field={path}>
                  {kind === "text" ? (
                    <TextInput name={path} value={v} onInput={(x) => setCell(i, f, x)} />
                  ) : (
                    <Select name={path} value={v} options={kind} onChange={(x) => setCell(i, f, f === "required" ? Number(x) : x)} />
                  )}
                  {vs.map((x) => (
                    <span class="field-error" role="alert">
                      {x.description}
                    </span>
                  ))}
                </td>
              );
            })}
            <td>
              <button class="btn-link danger" onClick={() => remove(i)}>
                {t("Remove")}
              </button>
            </td>
          </tr>
        ))}
      </tbody>
      <tfoot>
        <tr>
          <td colSpan={props.cols.length + 1}>
            <button class="btn" onClick={add}>
              + {t("Add")}
            </button>
          </td>
        </tr>
      </tfoot>
    </table>
  );
}
