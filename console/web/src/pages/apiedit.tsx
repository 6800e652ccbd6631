// The API editor: frontend definition, request parameters, backend (HTTP,
// load-balance channel, mock, function), backend parameters and policy
// backends (FUNCTION ones in full, member-group URLs of channel backends),
// as a form and as YAML. Server-side violations are shown on the
// field they name.
import { useState } from "preact/hooks";
import { apiFormPaths, channelOn, MEMBER_GROUPS, onChannel, syncMemberGroups } from "../apiform";
import type { FieldViolation } from "../errors";
import { unclaimed, violationsFor } from "../errors";
import { blank, kind, setPath, unwrap, type AnyMsg } from "../resources";
import { Card, ErrorBox, Field, Loading, Page, TextInput, useApp, useLoad } from "../ui";
import { useGroups } from "./apis";
import { PolicyFunctions } from "./policyfunctions";
import { Editor } from "./resources";
import { fieldInputs, Rows, type Col } from "./rows";

const apiKind = kind("api");
const BACKENDS = ["backend_api", "mock_info", "func_info"];
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
  const paths = apiFormPaths(msg);
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

function ApiForm(props: { msg: AnyMsg; set: (m: AnyMsg) => void; vs: FieldViolation[]; groups: AnyMsg[] }) {
  const { t } = useApp();
  const m = props.msg;
  // Every edit keeps each channel backend's status with its member-group
  // URLs: 4 while it lists some, 1 without.
  const setMsg = (x: AnyMsg) => props.set(syncMemberGroups(apiKind.schema, x));
  const { set, str, text, select, num } = fieldInputs(apiKind.schema, m, setMsg, props.vs);
  const schema = apiKind.schema;
  // The channel box: 4 (the channel's member groups, each with its URL)
  // when URLs are kept from before the box was unticked, else 1.
  const channel = onChannel(m, "backend_api");
  // The backend's violations no input shows are listed under it.
  const fieldPaths = apiFormPaths(m).filter((p) => !BACKENDS.includes(p));
  const memberGroupCols: Col[] = [
    ["member_group_name", t("Member group"), "text"],
    ["member_group_id", t("Member group ID"), "text"],
    ["req_protocol", t("Protocol"), [["", t("As the backend")], "HTTP", "HTTPS"]],
    ["req_method", t("Method"), [["", t("As the backend")], ...METHODS]],
    ["req_uri", t("Backend path"), "text"],
  ];
  const memberGroups = (prefix: string) => (
    <div class="member-groups">
      <h4>{t("Member-group URLs")}</h4>
      <p class="muted small">{t("Each member group of the channel is called with its own URL; traffic splits by the groups' weights. Without any, the whole channel is called.")}</p>
      <Rows schema={schema} msg={m} set={setMsg} list={prefix + ".member_group_url_infos"} vs={props.vs} cols={memberGroupCols} init={{}} addLabel={t("Add member group")} />
    </div>
  );
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
        schema={schema}
        msg={m}
        set={setMsg}
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
              <input type="checkbox" name="use-channel" checked={channel} onChange={(e) => set("backend_api.vpc_channel_status", (e.target as HTMLInputElement).checked ? channelOn(m, "backend_api") : 2)} />
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
      {m.backendType === "HTTP" && channel && memberGroups("backend_api")}
      {BACKENDS.map((p) =>
        unclaimed(violationsFor(props.vs, p), fieldPaths).map((v) => (
          <div class="field-error" role="alert">
            <code>{p}</code>: {v.description}
          </div>
        )),
      )}
      <h3>{t("Backend parameters")}</h3>
      <Rows
        schema={schema}
        msg={m}
        set={setMsg}
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
        {(m.policyHttps ?? []).map((p: AnyMsg, i: number) => (
          <li>
            <b>{p.name}</b> · {p.effectMode} · {t("Conditions")}: {(p.conditions ?? []).length} · {p.urlDomain || p.vpcChannelInfo?.vpcChannelId}
            {p.vpcChannelStatus === MEMBER_GROUPS && ` · ${t("Member groups")}: ${(p.memberGroupUrlInfos ?? []).length}`}
            {onChannel(m, `policy_https[${i}]`) && memberGroups(`policy_https[${i}]`)}
          </li>
        ))}
        {(m.policyMocks ?? []).map((p: AnyMsg) => (
          <li>
            <b>{p.name}</b> · MOCK · {t("Conditions")}: {(p.conditions ?? []).length}
          </li>
        ))}
      </ul>
      {m.backendType === "FUNCTION" && <PolicyFunctions schema={schema} msg={m} set={setMsg} vs={props.vs} />}
      <p class="muted small">{t("Edit HTTP and MOCK policy backends in the YAML tab.")}</p>
    </div>
  );
}
