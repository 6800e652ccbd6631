// Package storehdr names the response headers the admin API sets on reads
// about its view of etcd, for servers and clients alike (it imports
// nothing, so apigctl need not link the store).
package storehdr

// When etcd has no quorum or cannot be reached, reads are served from the
// last view apigw watched; these headers say so.
const (
	// Connected is "true" while apigw reaches etcd, else "false".
	Connected = "apigw-store-connected"
	// Revision is the etcd revision the answer reflects.
	Revision = "apigw-store-revision"
	// Since is when apigw lost etcd (RFC 3339), sent with Connected false.
	Since = "apigw-store-disconnected-since"
)
