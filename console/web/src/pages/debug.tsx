// Debug and explain: build a request for an API, then Explain it (how the
// published configuration decides, computed by apigw with the code that
// serves Envoy) or Send it to a gateway, signed server-side.
import { useEffect, useState } from "preact/hooks";
import { create } from "@bufbuild/protobuf";
import { HttpRequestSchema, type ExplainResponse, type Header, type SendResponse } from "../gen/apigw/admin/v1/debug_pb";
import { parseHeaders, requestPath } from "../request";
import { displayName, unwrap, type AnyMsg } from "../resources";
import { Badge, Card, ErrorBox, Field, Page, Select, Table, TextInput, text, useApp, useLoad, violationsOf } from "../ui";
import { useEnvs } from "./bindings";

export function DebugPage(props: { apiId?: string }) {
  const { api, instance, t } = useApp();
  const envs = useEnvs();
  const [search, setSearch] = useState("");
  const [apiId, setApiId] = useState(props.apiId ?? "");
  const [env, setEnv] = useState("RELEASE");
  const [method, setMethod] = useState("GET");
  const [host, setHost] = useState("");
  const [path, setPath] = useState("/");
  const [query, setQuery] = useState("");
  const [headers, setHeaders] = useState("");
  const [body, setBody] = useState("");
  const [mode, setMode] = useState("app");
  const [appId, setAppId] = useState("");
  const [gateway, setGateway] = useState(localStorage.getItem("apigw.console.gateway") ?? "http://127.0.0.1:8080");
  const [explained, setExplained] = useState<ExplainResponse>();
  const [sent, setSent] = useState<SendResponse>();
  const [err, setErr] = useState<unknown>();
  const apis = useLoad(() => api.admin.list({ instance, kind: "api", name: search, pageSize: 20 }), [instance, search]);
  const apps = useLoad(() => api.admin.list({ instance, kind: "app", pageSize: 1000 }), [instance]);
  // Choosing an API fills the request from its definition.
  useEffect(() => {
    if (!apiId) return;
    (async () => {
      const a = unwrap((await api.admin.get({ instance, kind: "api", id: apiId })).resource)!;
      const g = unwrap((await api.admin.get({ instance, kind: "group", id: a.groupId })).resource)!;
      setMethod(a.reqMethod === "ANY" ? "GET" : a.reqMethod);
      setPath(requestPath(a.reqUri, a.reqParams ?? []));
      setHost(g.urlDomains?.[0]?.domain || g.slDomain);
      setAppId("");
    })().catch(setErr);
  }, [apiId, instance]);
  useEffect(() => {
    if (!appId && apps.data?.resources.length) setAppId(unwrap(apps.data.resources[0])!.id);
  }, [apps.data, appId]);
  const request = () => {
    const hs = parseHeaders(headers);
    if (env !== "RELEASE") hs.push({ name: "X-Stage", value: env });
    return create(HttpRequestSchema, {
      method,
      host,
      path: path + (query ? (query.startsWith("?") ? query : "?" + query) : ""),
      headers: hs as Header[],
      body: new TextEncoder().encode(body),
    });
  };
  const credentials = mode === "none" ? undefined : { appId, appCode: mode === "appcode" };
  const explain = async () => {
    try {
      setExplained(await api.debug.explain({ instance, request: request(), credentials }));
      setSent(undefined);
      setErr(undefined);
    } catch (e) {
      setErr(e);
    }
  };
  const send = async () => {
    localStorage.setItem("apigw.console.gateway", gateway);
    try {
      setSent(await api.debug.send({ instance, gatewayUrl: gateway, request: request(), credentials }));
      setExplained(undefined);
      setErr(undefined);
    } catch (e) {
      setErr(e);
    }
  };
  const vs = violationsOf(err);
  return (
    <Page title={t("Debug & explain")}>
      <Card title={t("Request")}>
        <div class="form-row">
          <Field label={t("Search by name")}>
            <input name="api-search" value={search} onInput={(e) => setSearch((e.target as HTMLInputElement).value)} />
          </Field>
          <Field label={t("API")}>
            <Select
              name="api"
              value={apiId}
              options={[["", t("Choose an API")], ...(apis.data?.resources ?? []).map((r) => unwrap(r)!).map((a) => [a.id, `${a.name} (${a.reqMethod} ${a.reqUri})`] as [string, string])]}
              onChange={setApiId}
            />
          </Field>
          <Field label={t("Environment")}>
            <Select name="env" value={env} options={envs} onChange={setEnv} />
          </Field>
        </div>
        <div class="form-row">
          <Field label={t("Method")}>
            <Select name="method" value={method} options={["GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS"]} onChange={setMethod} />
          </Field>
          <Field label={t("Host")} path="request.host" violations={vs}>
            <TextInput name="host" value={host} onInput={setHost} />
          </Field>
          <Field label={t("Path")} path="request.path" violations={vs}>
            <TextInput name="path" value={path} onInput={setPath} />
          </Field>
          <Field label={t("Query")}>
            <TextInput name="query" value={query} onInput={setQuery} placeholder="a=1&b=2" />
          </Field>
        </div>
        <div class="form-row">
          <Field label={t("Headers (Name: value per line)")} wide>
            <textarea name="headers" rows={3} value={headers} onInput={(e) => setHeaders((e.target as HTMLTextAreaElement).value)} />
          </Field>
          <Field label={t("Body")} wide>
            <textarea name="body" rows={3} value={body} onInput={(e) => setBody((e.target as HTMLTextAreaElement).value)} />
          </Field>
        </div>
        <div class="form-row">
          <Field label={t("Credentials")}>
            <Select
              name="mode"
              value={mode}
              options={[
                ["app", t("Sign with the app's key")],
                ["appcode", t("Send the app's AppCode")],
                ["none", t("Unauthenticated")],
              ]}
              onChange={setMode}
            />
          </Field>
          {mode !== "none" && (
            <Field label={t("App")} path="credentials.app_id" violations={vs}>
              <Select name="app" value={appId} options={(apps.data?.resources ?? []).map((r) => unwrap(r)!).map((a) => [a.id, displayName(a)] as [string, string])} onChange={setAppId} />
            </Field>
          )}
          <Field label={t("Gateway URL")} path="gateway_url" violations={vs}>
            <TextInput name="gateway" value={gateway} onInput={setGateway} />
          </Field>
        </div>
        <div class="form-actions">
          <button class="btn primary" data-testid="explain" onClick={explain}>
            {t("Explain")}
          </button>
          <button class="btn" data-testid="send" onClick={send}>
            {t("Send")}
          </button>
        </div>
        <ErrorBox error={err} />
      </Card>
      {explained && <Explained r={explained} />}
      {sent && <Sent r={sent} />}
    </Page>
  );
}

function HeaderTable(props: { headers: { name: string; value: string }[] }) {
  return (
    <table class="table compact">
      <tbody>
        {props.headers.map((h) => (
          <tr>
            <td>
              <code>{h.name}</code>
            </td>
            <td class="break">{h.value}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

function Explained(props: { r: ExplainResponse }) {
  const { t } = useApp();
  const r = props.r;
  const a = r.auth;
  return (
    <div data-testid="explain-result">
      <p class="muted small">{t("Explained against configuration revision {0}; nothing was sent and no counter was used.", String(r.revision))}</p>
      <div class="steps">
        <Card title={t("Route")}>
          {r.route?.matched ? (
            <>
              <Badge kind="ok">{t("Matched")}</Badge>
              <dl class="kv">
                <dt>{t("API")}</dt>
                <dd data-testid="route-api">{r.route.apiName}</dd>
                <dt>{t("Environment")}</dt>
                <dd>{r.route.envName || r.route.envId}</dd>
                <dt>{t("Policy backends")}</dt>
                <dd>{r.route.backend}</dd>
                <dt>{t("Route")}</dt>
                <dd>
                  <code>{r.route.routeName}</code>
                </dd>
              </dl>
            </>
          ) : (
            <>
              <Badge kind="warn">{t("Not matched")}</Badge>
              <p data-testid="route-reason">{r.route?.reason}</p>
            </>
          )}
        </Card>
        <Card title={t("Authentication")}>
          {!a?.checked ? (
            <Badge kind="info">{t("Not checked")}</Badge>
          ) : a.allowed ? (
            <>
              <Badge kind="ok">{t("Allowed")}</Badge>
              {a.headersSet.length > 0 && (
                <>
                  <h4>{t("Headers set by ext_authz")}</h4>
                  <HeaderTable headers={a.headersSet} />
                </>
              )}
            </>
          ) : (
            <div data-testid="auth-denied">
              <Badge kind="error">
                {t("Denied")} {a.status} {a.errorCode}
              </Badge>
              <p>{a.errorMsg}</p>
            </div>
          )}
        </Card>
        <Card title={t("Limits")}>
          <Table
            rows={r.limits.filter((l) => l.limit > 0)}
            columns={[
              { title: t("Descriptor"), cell: (l) => <code class="small">{shortDescriptor(l.descriptor)}</code> },
              { title: t("Limit"), cell: (l) => `${l.limit} / ${l.unit}` },
              { title: t("Remaining"), cell: (l) => l.remaining },
              { title: t("Status"), cell: (l) => <Badge kind={l.code === "OK" ? "ok" : "error"}>{l.code}</Badge> },
            ]}
          />
        </Card>
      </div>
      {r.backend && (
        <Card title={t("Backend request")}>
          <p data-testid="backend-url">
            <b>{r.backend.method}</b> <code>{r.backend.url}</code> <span class="muted">({r.backend.endpoint})</span>
          </p>
          <HeaderTable headers={r.backend.headers} />
          {r.backend.body.length > 0 && <pre class="code">{text(r.backend.body)}</pre>}
        </Card>
      )}
      {r.response && (
        <Card title={t("Gateway response")}>
          <p>
            <b data-testid="response-status">{r.response.status}</b>
          </p>
          <HeaderTable headers={r.response.headers} />
          <pre class="code">{text(r.response.body)}</pre>
        </Card>
      )}
      <Card title={t("Trace")}>
        <ol class="trace">
          {r.trace.map((l) => (
            <li>
              <code>{l}</code>
            </li>
          ))}
        </ol>
      </Card>
    </div>
  );
}

function Sent(props: { r: SendResponse }) {
  const { t } = useApp();
  const r = props.r;
  return (
    <div data-testid="send-result">
      <Card title={t("Response")}>
        <p>
          {t("Status")}: <b data-testid="send-status">{r.response?.status}</b> · {t("Duration")}: {String(r.durationMs)} ms
        </p>
        <HeaderTable headers={r.response?.headers ?? []} />
        <pre class="code">{text(r.response?.body)}</pre>
      </Card>
      <Card title={t("Request")}>
        <HeaderTable headers={r.request?.headers ?? []} />
      </Card>
    </div>
  );
}

export type { AnyMsg };

/** A descriptor without the entries every one of the call shares (instance, API, environment). */
export function shortDescriptor(d: string): string {
  return d
    .split(", ")
    .filter((e) => !/^(instance|api_id|env_id)=/.test(e))
    .join(", ");
}
