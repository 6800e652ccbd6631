// Package e2e runs the web console in a real browser: headless Debian
// chromium, driven by playwright-core (console/web/e2e/console.e2e.mjs),
// against an apigw process built from this repository.
package e2e
