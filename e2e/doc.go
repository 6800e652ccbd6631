// Package e2e holds apigw's end-to-end tests: the pet store sample
// (examples/petstore) applied with apigctl to the built apigw binary, then
// every scenario of the top-level README's sample walk-through ("Try the
// sample") played through Envoy — the protocol-level emulator in internal/envoysim
// always, a real Envoy when ENVOY_BIN names one. See README.md in this
// directory.
package e2e
