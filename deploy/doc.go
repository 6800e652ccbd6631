// Package deploy holds the deployment layouts of apigw — Envoy bootstraps
// (envoy/), docker compose (compose/, with Prometheus and Grafana),
// Kubernetes manifests (kubernetes/) and the Grafana dashboard (grafana/)
// — and the tests that check them in CI, where neither Envoy nor Docker
// nor Kubernetes can run: every bootstrap is decoded into Envoy's
// Bootstrap proto and validated, every manifest into the Kubernetes API
// types, and their ports, names, images and flags are compared with
// apigw's own defaults; the dashboard's queries name only series apigw
// exports.
//
// deploy is its own Go module (github.com/apigw/apigw/deploy, with a
// replace to the main module), so that the Kubernetes API types these
// checks need stay out of the product's go.mod. make test runs its tests
// with the main module's.
package deploy
