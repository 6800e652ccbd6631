package extauth

import (
	"errors"
	"strings"

	"github.com/apigw/apigw/extauth/iam"
	"github.com/apigw/apigw/model/gwresp"
)

// authIAM verifies the X-Auth-Token JWT and records the caller's account.
// The token is not forwarded to the backend.
func (c *call) authIAM() *denial {
	tok, ok := c.req.hdr.get(hdrAuthToken)
	if !ok || strings.TrimSpace(tok) == "" {
		return deny(ReasonIAMMissing, gwresp.ErrIAMTokenMissing)
	}
	id, err := c.s.iam.Verify(c.ctx, c.target.inst.Config.GetIam(), tok)
	switch {
	case err == nil:
	case errors.Is(err, iam.ErrNotConfigured):
		return &denial{reason: ReasonIAMUnavailable, err: gwresp.ErrIAMUnavailable, cause: err}
	case errors.Is(err, iam.ErrUnavailable):
		return &denial{reason: ReasonIAMUnavailable, err: gwresp.ErrIAMUnavailable, cause: err}
	case errors.Is(err, iam.ErrExpired):
		return deny(ReasonIAMExpired, gwresp.ErrTokenExpired)
	default:
		detail := strings.TrimPrefix(err.Error(), iam.ErrInvalid.Error()+": ")
		return denyf(ReasonIAMInvalid, gwresp.ErrIAMAuth, detail)
	}
	c.caller.iamAuth, c.caller.account, c.caller.accName = true, id.AccountID, id.AccountName
	c.mut.removeHeader(hdrAuthToken)
	return nil
}
