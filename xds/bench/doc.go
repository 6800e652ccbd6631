// Package bench holds the xDS benchmarks of issue #3 (translation of
// 10 000 APIs, propagation from etcd to an ADS client with 100 clients
// connected, fan-out to 1 000 clients). They print their figures and the
// ratio to each target:
//
//	go test ./xds/bench -run '^$' -bench . -benchtime 20x
package bench
