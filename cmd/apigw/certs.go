package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"path"
	"path/filepath"
	"strings"
	"time"

	"github.com/apigw/apigw/internal/certgen"
	"github.com/apigw/apigw/model"
)

// certs runs `apigw certs`: a CA, apigw's server certificate and Envoy
// client certificates for local use (0 ok, 2 bad flag, 1 failure).
func certs(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("apigw certs", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(stderr, `Usage: apigw certs [flags]

Creates, for local use and tests, a CA (ca.crt, ca.key), apigw's server
certificate (apigw/) and a client certificate for the Envoys of each
instance (envoy/ for "default", envoy-<instance>/ for the others), each
directory with tls.crt, tls.key and ca.crt, plus the file-based SDS
resources (sds-tls.yaml, sds-ca.yaml) through which Envoy reads its
certificate. Existing files are kept; an existing CA signs what is missing.

Then: apigw --tls-dir DIR/apigw --envoy-tls-dir DIR/envoy (absolute), and
Envoy bootstraps that point at DIR/envoy (deploy/envoy/local.yaml: pki/envoy).

`)
		fs.PrintDefaults()
	}
	dir := fs.String("dir", "pki", "Output directory.")
	instances := fs.String("instance", "default", "Comma-separated instances to create Envoy certificates for; each gets the identity spiffe://<trust domain>/apigw/envoy/<instance>.")
	trust := fs.String("trust-domain", "apigw.local", "SPIFFE trust domain of the Envoy identities.")
	hosts := fs.String("hosts", "", "Comma-separated extra DNS names or IPs of apigw's certificate (always: "+strings.Join(certgen.DefaultHosts(), ", ")+").")
	mount := fs.String("mount-dir", "", "Path at which Envoy sees --dir, written into the SDS files (default: --dir's absolute path).")
	days := fs.Int("days", 365, "Validity of the server and client certificates, in days.")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "apigw certs: unexpected argument %q\n", fs.Arg(0))
		return 2
	}
	if *days <= 0 {
		fmt.Fprintln(stderr, "apigw certs: --days must be positive")
		return 2
	}
	opts := certgen.Options{Dir: *dir, Instances: model.SplitList(*instances), TrustDomain: *trust, Hosts: model.SplitList(*hosts),
		Validity: time.Duration(*days) * 24 * time.Hour}
	if *mount != "" {
		opts.EnvoyDir = func(local string) string { return path.Join(*mount, filepath.Base(local)) }
	}
	files, err := certgen.Generate(opts)
	if err != nil {
		fmt.Fprintln(stderr, "apigw certs:", err)
		return 1
	}
	for _, f := range files {
		state := "kept"
		if f.Created {
			state = "created"
		}
		fmt.Fprintf(stdout, "%-8s %s\n", state, f.Path)
	}
	return 0
}
