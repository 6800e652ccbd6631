// Builds the console into ../dist (embedded in apigw by the Go package
// console) — deterministic: the same sources and lockfile give the same
// bytes. `node build.mjs --tests` bundles the unit tests into .test-out/
// for `node --test`.
import * as esbuild from "esbuild";
import { readdirSync, mkdirSync, rmSync, copyFileSync } from "node:fs";
import { join, dirname } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const common = {
  bundle: true,
  jsx: "automatic",
  jsxImportSource: "preact",
  target: "es2020",
  logLevel: "warning",
  legalComments: "eof",
  charset: "utf8",
};

if (process.argv.includes("--tests")) {
  const dir = join(here, "test");
  const out = join(here, ".test-out");
  rmSync(out, { recursive: true, force: true });
  await esbuild.build({
    ...common,
    entryPoints: readdirSync(dir).filter((f) => f.endsWith(".test.ts")).map((f) => join(dir, f)),
    outdir: out,
    outExtension: { ".js": ".test.mjs" },
    entryNames: "[name]",
    platform: "node",
    packages: "external",
    format: "esm",
    sourcemap: "inline",
  });
} else {
  const out = join(here, "..", "dist");
  rmSync(out, { recursive: true, force: true });
  mkdirSync(out, { recursive: true });
  await esbuild.build({
    ...common,
    entryPoints: { app: join(here, "src", "main.tsx") },
    outdir: out,
    format: "esm",
    minify: true,
    platform: "browser",
    define: { "process.env.NODE_ENV": '"production"' },
  });
  copyFileSync(join(here, "src", "index.html"), join(out, "index.html"));
}
