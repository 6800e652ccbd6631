package cli

import (
	"bytes"
	"crypto/tls"
	"fmt"
	"io"
	"net/http"
	"sort"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/apigw/apigw/extauth/sign"
)

// requestFlags describe an HTTP request, curl-like.
type requestFlags struct {
	method    string
	headers   []string
	data      string
	dataFile  string
	appKey    string
	appSecret string
	appCode   string
	stage     string
	date      string
	unsigned  bool
}

func (f *requestFlags) add(cmd *cobra.Command) {
	cmd.Flags().StringVarP(&f.method, "request", "X", "", "HTTP method (default GET, or POST with a body).")
	cmd.Flags().StringArrayVarP(&f.headers, "header", "H", nil, "Header \"Name: value\" (repeatable).")
	cmd.Flags().StringVarP(&f.data, "data", "d", "", "Request body.")
	cmd.Flags().StringVar(&f.dataFile, "data-file", "", "Read the request body from a file (- for standard input).")
	cmd.Flags().StringVar(&f.appKey, "app-key", "", "App key for the APP signature (env APIGW_APP_KEY).")
	cmd.Flags().StringVar(&f.appSecret, "app-secret", "", "App secret for the APP signature (env APIGW_APP_SECRET).")
	cmd.Flags().StringVar(&f.appCode, "app-code", "", "AppCode sent as X-Apig-AppCode (simple authentication).")
	cmd.Flags().StringVar(&f.stage, "stage", "", "Environment to call (X-Stage header; default RELEASE).")
	cmd.Flags().StringVar(&f.date, "date", "", "Signing time, "+sign.DateFormat+" (default now).")
	cmd.Flags().BoolVar(&f.unsigned, "unsigned-payload", false, "Do not sign the body (X-Sdk-Content-Sha256: UNSIGNED-PAYLOAD).")
}

// build makes the request and signs it when an app key is given.
func (f *requestFlags) build(g *globals, url string, signer signFunc) (*http.Request, error) {
	body := []byte(f.data)
	if f.dataFile != "" {
		b, err := readInput(f.dataFile, g.streams.In)
		if err != nil {
			return nil, err
		}
		body = b
	}
	method := strings.ToUpper(f.method)
	if method == "" {
		method = http.MethodGet
		if len(body) > 0 {
			method = http.MethodPost
		}
	}
	var rd io.Reader
	if len(body) > 0 {
		rd = bytes.NewReader(body)
	}
	r, err := http.NewRequest(method, url, rd)
	if err != nil {
		return nil, usageError(err)
	}
	for _, h := range f.headers {
		k, v, ok := strings.Cut(h, ":")
		if !ok {
			return nil, usageError(fmt.Errorf("header %q: want \"Name: value\"", h))
		}
		if strings.EqualFold(strings.TrimSpace(k), "host") {
			r.Host = strings.TrimSpace(v)
			continue
		}
		r.Header.Add(strings.TrimSpace(k), strings.TrimSpace(v))
	}
	if f.stage != "" {
		r.Header.Set("X-Stage", f.stage)
	}
	if f.unsigned {
		r.Header.Set(sign.ContentSHA256Header, sign.UnsignedPayload)
	}
	if f.appCode != "" {
		r.Header.Set("X-Apig-AppCode", f.appCode)
	}
	key, secret := f.appKey, f.appSecret
	if key == "" {
		key = g.getenv("APIGW_APP_KEY")
	}
	if secret == "" {
		secret = g.getenv("APIGW_APP_SECRET")
	}
	if (key == "") != (secret == "") {
		return nil, usageError(fmt.Errorf("--app-key and --app-secret go together"))
	}
	if key != "" {
		t := time.Now()
		if f.date != "" {
			if t, err = time.Parse(sign.DateFormat, f.date); err != nil {
				return nil, usageError(fmt.Errorf("--date: want %s", sign.DateFormat))
			}
		}
		if err := signer(r, key, secret, t); err != nil {
			return nil, err
		}
	}
	return r, nil
}

func newCallCmd(g *globals) *cobra.Command {
	var f requestFlags
	var insecure, include, fail bool
	var timeout time.Duration
	cmd := &cobra.Command{
		Use:   "call URL [-X METHOD] [-H 'Name: value'] [-d BODY] (--app-key KEY --app-secret SECRET | --app-code CODE)",
		Short: "Call an API through the gateway with an APP signature or an AppCode (curl-like)",
		Long: `Call sends an HTTP request to an API served by the gateway and prints the
response body. With --app-key and --app-secret the request carries an
SDK-HMAC-SHA256 APP signature (X-Sdk-Date and Authorization over every header
sent, the query and the body); with --app-code it carries X-Apig-AppCode.`,
		Example: `  apigctl call https://api.example.com/v1/orders/1 --app-key $KEY --app-secret $SECRET
  apigctl call -X POST https://api.example.com/v1/orders -H 'Content-Type: application/json' -d '{"id":1}' --app-key K --app-secret S -i
  apigctl call https://api.example.com/v1/orders/1 --app-code $CODE --stage TEST -k`,
		Args: cobra.ExactArgs(1),
		RunE: run(g, func(cmd *cobra.Command, args []string) error {
			r, err := f.build(g, args[0], sign.Sign)
			if err != nil {
				return err
			}
			client := &http.Client{Timeout: timeout, Transport: &http.Transport{Proxy: http.ProxyFromEnvironment,
				TLSClientConfig: &tls.Config{InsecureSkipVerify: insecure}}} //nolint:gosec // -k
			resp, err := client.Do(r.WithContext(cmd.Context()))
			if err != nil {
				return &exitError{code: ExitUnavailable, err: err}
			}
			defer resp.Body.Close()
			w := g.streams.Out
			if include {
				fmt.Fprintf(w, "%s %s\n", resp.Proto, resp.Status)
				keys := make([]string, 0, len(resp.Header))
				for k := range resp.Header {
					keys = append(keys, k)
				}
				sort.Strings(keys)
				for _, k := range keys {
					for _, v := range resp.Header[k] {
						fmt.Fprintf(w, "%s: %s\n", k, v)
					}
				}
				fmt.Fprintln(w)
			}
			if _, err := io.Copy(w, resp.Body); err != nil {
				return err
			}
			if resp.StatusCode >= 400 {
				if !include {
					fmt.Fprintf(g.streams.Err, "\n%s %s\n", resp.Proto, resp.Status)
				}
				if fail {
					return &exitError{code: ExitError, err: fmt.Errorf("HTTP %s", resp.Status)}
				}
			}
			return nil
		}),
	}
	f.add(cmd)
	cmd.Flags().BoolVarP(&insecure, "insecure", "k", false, "Do not verify the gateway's TLS certificate.")
	cmd.Flags().BoolVarP(&include, "include", "i", false, "Print the status line and response headers.")
	cmd.Flags().BoolVar(&fail, "fail", false, "Exit with 1 on HTTP status 400 or more.")
	cmd.Flags().DurationVar(&timeout, "max-time", 30*time.Second, "Time limit of the call.")
	return cmd
}

func newSignCmd(g *globals) *cobra.Command {
	var f requestFlags
	var canonical bool
	cmd := &cobra.Command{
		Use:   "sign URL [-X METHOD] [-H 'Name: value'] [-d BODY] --app-key KEY --app-secret SECRET",
		Short: "Print the headers that sign a request (X-Sdk-Date, Authorization)",
		Long: `Sign computes the SDK-HMAC-SHA256 APP signature of the described request and
prints the headers to add to it. Send exactly the headers given with -H (they
are all signed) and the same body. --canonical also prints the canonical
request, to compare with a failing client.`,
		Example: `  apigctl sign https://api.example.com/v1/orders?limit=2 --app-key $KEY --app-secret $SECRET
  curl https://api.example.com/v1/orders?limit=2 $(apigctl sign https://api.example.com/v1/orders?limit=2 --app-key K --app-secret S | sed 's/^/-H /')`,
		Args: cobra.ExactArgs(1),
		RunE: run(g, func(_ *cobra.Command, args []string) error {
			if f.appKey == "" && g.getenv("APIGW_APP_KEY") == "" {
				return usageError(fmt.Errorf("--app-key and --app-secret are required"))
			}
			r, err := f.build(g, args[0], sign.Sign)
			if err != nil {
				return err
			}
			w := g.streams.Out
			if canonical {
				cr, err := canonicalRequest(r)
				if err != nil {
					return err
				}
				fmt.Fprintf(g.streams.Err, "Canonical request:\n%s\n\n", cr)
			}
			fmt.Fprintf(w, "%s: %s\n", sign.DateHeader, r.Header.Get(sign.DateHeader))
			if v := r.Header.Get(sign.ContentSHA256Header); v != "" {
				fmt.Fprintf(w, "%s: %s\n", sign.ContentSHA256Header, v)
			}
			fmt.Fprintf(w, "Authorization: %s\n", r.Header.Get("Authorization"))
			return nil
		}),
	}
	f.add(cmd)
	cmd.Flags().BoolVar(&canonical, "canonical", false, "Also print the canonical request (to standard error).")
	return cmd
}
