// Package testutil holds the small pieces that tests across the module
// share: a log buffer safe for concurrent writers and free loopback
// addresses. It is imported by tests and test helper packages only.
package testutil
