import { render } from "preact";
import { useEffect, useMemo, useState } from "preact/hooks";
import "./app.css";
import { createApi, TOKEN_KEY } from "./api";
import { isUnauthenticated } from "./errors";
import { initialLang, LANG_KEY, type Lang } from "./i18n";
import { route, type Route } from "./router";
import { AppCtx, makeT, type Ctx } from "./ui";
import { Overview } from "./pages/overview";
import { ResourcePage } from "./pages/resources";
import { ApiList } from "./pages/apis";
import { ApiEditor } from "./pages/apiedit";
import { PublishPage } from "./pages/publish";
import { ImportExport } from "./pages/importexport";
import { DebugPage } from "./pages/debug";
import { MetricsPage } from "./pages/metrics";
import { AuditPage } from "./pages/audit";

const api = createApi(sessionStorage);

const nav: { section: string; items: [string, string][] }[] = [
  { section: "", items: [["overview", "Overview"]] },
  {
    section: "API management",
    items: [
      ["groups", "API Groups"],
      ["apis", "APIs"],
      ["environments", "Environments"],
      ["env_variables", "Environment variables"],
      ["responses", "Gateway responses"],
    ],
  },
  {
    section: "API policies",
    items: [
      ["apps", "Apps"],
      ["throttles", "Throttling policies"],
      ["acls", "Access control"],
      ["app_quotas", "Credential quotas"],
      ["plugins", "Plug-ins"],
      ["signatures", "Signature keys"],
      ["orchestrations", "Orchestration rules"],
      ["authorizers", "Custom authorizers"],
      ["channels", "Load balance channels"],
      ["certificates", "Certificates"],
    ],
  },
  {
    section: "Tools",
    items: [
      ["import", "Import / export"],
      ["debug", "Debug & explain"],
    ],
  },
  {
    section: "Monitoring",
    items: [
      ["metrics", "API metrics"],
      ["audit", "Audit log"],
    ],
  },
];

function Login(props: { t: Ctx["t"]; onDone: () => void; error?: boolean }) {
  const [token, setToken] = useState("");
  return (
    <div class="login">
      <form
        class="card"
        onSubmit={(e) => {
          e.preventDefault();
          sessionStorage.setItem(TOKEN_KEY, token.trim());
          props.onDone();
        }}
      >
        <h1>apigw · {props.t("API Gateway")}</h1>
        <p class="muted">{props.t("Enter the admin token of this apigw (--admin-token). It is kept in this tab only.")}</p>
        <label class="field wide">
          <span class="label">{props.t("Admin token")}</span>
          <input name="token" type="password" autoComplete="off" value={token} onInput={(e) => setToken((e.target as HTMLInputElement).value)} />
        </label>
        <button class="btn primary" type="submit">
          {props.t("Sign in")}
        </button>
      </form>
    </div>
  );
}

function Content(props: { r: Route }) {
  const r = props.r;
  switch (r.page) {
    case "overview":
      return <Overview />;
    case "apis":
      return <ApiList />;
    case "api":
      // Keyed by the route: going from one API (or a new one) to another
      // starts a fresh editor rather than keeping the last one's message.
      return <ApiEditor key={r.id ?? "new"} id={r.id} />;
    case "publish":
      return <PublishPage id={r.id!} />;
    case "import":
      return <ImportExport />;
    case "debug":
      return <DebugPage apiId={r.id} />;
    case "metrics":
      return <MetricsPage />;
    case "audit":
      return <AuditPage />;
    default:
      return <ResourcePage key={r.page + "/" + (r.id ?? "new")} page={r.page} id={r.id} />;
  }
}

function App() {
  const [lang, setLang] = useState<Lang>(initialLang(localStorage.getItem(LANG_KEY), navigator.language));
  const [hash, setHash] = useState(location.hash);
  const [authed, setAuthed] = useState<boolean | undefined>(undefined);
  const [instance, setInstance] = useState("default");
  const [toasts, setToasts] = useState<{ id: number; msg: string; kind: string }[]>([]);
  useEffect(() => {
    const on = () => setHash(location.hash);
    addEventListener("hashchange", on);
    return () => removeEventListener("hashchange", on);
  }, []);
  useEffect(() => {
    document.documentElement.lang = lang;
    localStorage.setItem(LANG_KEY, lang);
  }, [lang]);
  // Probe the API: without a valid token (when one is required) sign in.
  useEffect(() => {
    if (authed !== undefined) return;
    api.debug.overview({ instance }).then(
      () => setAuthed(true),
      (e) => setAuthed(!isUnauthenticated(e)),
    );
  }, [authed]);
  const t = useMemo(() => makeT(lang), [lang]);
  const ctx: Ctx = {
    api,
    lang,
    instance,
    t,
    go: (h) => (location.hash = h),
    toast: (msg, kind = "ok") => {
      const id = Math.random();
      setToasts((ts) => [...ts.slice(-2), { id, msg, kind }]);
      setTimeout(() => setToasts((ts) => ts.filter((x) => x.id !== id)), 3000);
    },
  };
  if (authed === undefined) return <div class="login muted">…</div>;
  if (!authed) return <Login t={t} onDone={() => setAuthed(undefined)} />;
  const r = route(hash);
  return (
    <AppCtx.Provider value={ctx}>
      <div class="shell">
        <header class="topbar">
          <span class="brand">apigw</span>
          <span class="product">{t("API Gateway")}</span>
          <span class="spacer" />
          <label class="inline">
            {t("Instance")}
            <input class="instance" name="instance" value={instance} onChange={(e) => setInstance((e.target as HTMLInputElement).value || "default")} />
          </label>
          <button class="btn-link lang" data-testid="lang" onClick={() => setLang(lang === "en" ? "zh-CN" : "en")}>
            {lang === "en" ? "中文" : "English"}
          </button>
          {sessionStorage.getItem(TOKEN_KEY) && (
            <button
              class="btn-link"
              onClick={() => {
                sessionStorage.removeItem(TOKEN_KEY);
                setAuthed(undefined);
              }}
            >
              {t("Sign out")}
            </button>
          )}
        </header>
        <nav class="sidebar">
          {nav.map((s) => (
            <div class="nav-section">
              {s.section && <div class="nav-title">{t(s.section)}</div>}
              {s.items.map(([p, label]) => (
                <a href={"#/" + p} class={r.page === p || (p === "apis" && (r.page === "api" || r.page === "publish")) ? "on" : ""}>
                  {t(label)}
                </a>
              ))}
            </div>
          ))}
        </nav>
        <main class="main" key={instance}>
          <Content r={r} />
        </main>
        <div class="toasts">
          {toasts.map((x) => (
            <div class={"toast " + x.kind} role="status">
              {x.msg}
            </div>
          ))}
        </div>
      </div>
    </AppCtx.Provider>
  );
}

render(<App />, document.getElementById("app")!);
