package server

import (
	"errors"
	"fmt"
	"os"
	"strings"
)

// finishAdminAuth resolves the admin token (flag, variable or file) and
// applies the admin guard: a token that is set must not be blank, and
// beyond loopback the admin API must authenticate its callers — by token
// or by client certificate; TLS alone only encrypts.
func (c *Config) finishAdminAuth(tokenSet bool) []error {
	var errs []error
	if tokenSet && c.AdminTokenFile != "" {
		errs = append(errs, errors.New("--admin-token (APIGW_ADMIN_TOKEN) and --admin-token-file are exclusive: set one"))
	}
	c.AdminToken = strings.TrimSpace(c.AdminToken)
	if tokenSet && c.AdminToken == "" {
		errs = append(errs, errors.New("--admin-token (APIGW_ADMIN_TOKEN) is empty or blank: an empty token would turn authentication off; set a token or leave it unset"))
	}
	if c.AdminTokenFile != "" {
		b, err := os.ReadFile(c.AdminTokenFile)
		switch {
		case err != nil:
			errs = append(errs, fmt.Errorf("--admin-token-file: %w", err))
		case strings.TrimSpace(string(b)) == "":
			errs = append(errs, fmt.Errorf("--admin-token-file %s is empty or blank: an empty token would turn authentication off", c.AdminTokenFile))
		default:
			c.AdminToken = strings.TrimSpace(string(b))
		}
	}
	if c.AdminClientCAFile != "" && c.AdminTLSCert == "" {
		errs = append(errs, errors.New("--admin-client-ca-file needs --admin-tls-cert-file and --admin-tls-key-file: client certificates are verified over TLS"))
	}
	if c.Has(CompAdmin) && !c.AdminInsecure && !loopback(c.AdminAddr) && c.AdminToken == "" && c.AdminClientCAFile == "" && len(errs) == 0 {
		errs = append(errs, fmt.Errorf("--admin-addr %s is not loopback: require a token (--admin-token-file or APIGW_ADMIN_TOKEN) or client certificates (--admin-client-ca-file with --admin-tls-cert-file/--admin-tls-key-file), or pass --admin-insecure; TLS alone authenticates nobody", c.AdminAddr))
	}
	return errs
}
