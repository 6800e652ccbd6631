import { test } from "node:test";
import assert from "node:assert/strict";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { createRouterTransport } from "@connectrpc/connect";
import { create } from "@bufbuild/protobuf";
import { changed, diffLines, hunks } from "../src/diff";
import { parseHeaders, requestPath } from "../src/request";
import { route } from "../src/router";
import { initialLang, translate, zh } from "../src/i18n";
import { authInterceptor, createApi, TOKEN_KEY } from "../src/api";
import { DebugService, OverviewResponseSchema } from "../src/gen/apigw/admin/v1/debug_pb";

test("line diff", () => {
  const d = diffLines("a\nb\nc\n", "a\nx\nc\n");
  assert.deepEqual(d.map((l) => l.op + l.text), [" a", "-b", "+x", " c"]);
  assert.ok(changed(d));
  assert.ok(!changed(diffLines("a\n", "a\n")));
  assert.deepEqual(diffLines("", "a").map((l) => l.op + l.text), ["+a"]);
  const long = Array.from({ length: 20 }, (_, i) => "l" + i).join("\n");
  const h = hunks(diffLines(long, long.replace("l10", "x")), 2);
  assert.deepEqual(h.map((l) => (l ? l.op + l.text : "…")), ["…", " l8", " l9", "-l10", "+x", " l11", " l12", "…"]);
});

test("debug requests from API definitions", () => {
  assert.deepEqual(parseHeaders("X-A: 1\n\nbad line\nX-B:  two: parts \n"), [
    { name: "X-A", value: "1" },
    { name: "X-B", value: "two: parts" },
  ]);
  assert.equal(requestPath("/pets/{id}/toys/{toy}", [{ name: "id", location: "PATH", sampleValue: "7" }]), "/pets/7/toys/1");
  assert.equal(requestPath("/files/{path+}", [{ name: "path", location: "PATH", defaultValue: "a b" }]), "/files/a%20b");
});

test("hash routes", () => {
  assert.deepEqual(route(""), { page: "overview" });
  assert.deepEqual(route("#/apis/new"), { page: "api", id: undefined });
  assert.deepEqual(route("#/apis/abc"), { page: "api", id: "abc" });
  assert.deepEqual(route("#/apis"), { page: "apis", id: undefined });
  assert.deepEqual(route("#/publish/abc"), { page: "publish", id: "abc" });
});

test("languages", () => {
  assert.equal(translate("zh-CN", "API Groups"), "API分组");
  assert.equal(translate("en", "Published {0} to {1}", "a", "TEST"), "Published a to TEST");
  assert.equal(translate("zh-CN", "Published {0} to {1}", "a", "TEST"), "已将 a 发布到 TEST");
  assert.equal(initialLang(null, "zh-TW"), "zh-CN");
  assert.equal(initialLang("en", "zh-CN"), "en");
  assert.equal(initialLang(null, "de"), "en");
});

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((f) => {
    const p = join(dir, f);
    if (statSync(p).isDirectory()) return f === "gen" ? [] : sources(p);
    return /\.tsx?$/.test(f) ? [p] : [];
  });
}

test("every message the sources show has a zh-CN translation", () => {
  const missing = new Set<string>();
  for (const f of sources(join(process.cwd(), "src"))) {
    for (const m of readFileSync(f, "utf8").matchAll(/\bt\(\s*"((?:[^"\\]|\\.)*)"/g)) {
      if (!(m[1] in zh)) missing.add(m[1]);
    }
  }
  assert.deepEqual([...missing], []);
});

test("the token goes in an Authorization header, only when signed in", async () => {
  const seen: (string | null)[] = [];
  const store = new Map<string, string>();
  const ts = {
    getItem: (k: string) => store.get(k) ?? null,
    setItem: (k: string, v: string) => void store.set(k, v),
    removeItem: (k: string) => void store.delete(k),
  };
  const transport = createRouterTransport(
    ({ service }) => {
      service(DebugService, {
        overview: (_req, ctx) => {
          seen.push(ctx.requestHeader.get("authorization"));
          return create(OverviewResponseSchema, { revision: 7n });
        },
      });
    },
    { transport: { interceptors: [authInterceptor(ts)] } },
  );
  const api = createApi(ts, transport);
  await api.debug.overview({});
  ts.setItem(TOKEN_KEY, "s3cret");
  const r = await api.debug.overview({});
  assert.equal(r.revision, 7n);
  assert.deepEqual(seen, [null, "Bearer s3cret"]);
});
