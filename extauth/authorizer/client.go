package authorizer

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"

	lru "github.com/hashicorp/golang-lru/v2"
)

// Result is the outcome of an authorization.
type Result struct {
	Decision
	// Cached is set when the decision came from the cache.
	Cached bool
	// Downgraded is set when the authorizer failed and its relaxed mode
	// (auth_downgrade_enabled) allowed the request with an empty context.
	Downgraded bool
}

// CallError says that the authorizer could not be called or broke the
// contract (AUTHORIZER_CONF_FAILURE). It never carries identity values.
type CallError struct {
	// Status is the HTTP status received (0 when there was none).
	Status int
	Err    error
}

func (e *CallError) Error() string {
	if e.Status != 0 {
		return fmt.Sprintf("authorizer call: HTTP %d: %v", e.Status, e.Err)
	}
	return "authorizer call: " + e.Err.Error()
}

func (e *CallError) Unwrap() error { return e.Err }

// unavailable reports whether relaxed mode may allow despite the error:
// the authorizer was unreachable, timed out or answered 5xx.
func (e *CallError) unavailable() bool { return e.Status == 0 || e.Status >= 500 }

type entry struct {
	d       Decision
	expires time.Time
}

// Client calls authorizers and caches their decisions. It is safe for
// concurrent use.
type Client struct {
	http  *http.Client
	now   func() time.Time
	cache *lru.Cache[string, entry]
}

// DefaultCacheSize is the number of decisions kept across all authorizers.
const DefaultCacheSize = 10000

// NewClient returns a client using hc for calls (http.DefaultClient when
// nil), now as its clock and a decision cache of size entries.
func NewClient(hc *http.Client, now func() time.Time, size int) *Client {
	if hc == nil {
		hc = http.DefaultClient
	}
	if now == nil {
		now = time.Now
	}
	if size <= 0 {
		size = DefaultCacheSize
	}
	c, _ := lru.New[string, entry](size) // only fails for size <= 0
	return &Client{http: hc, now: now, cache: c}
}

// Authorize checks the identity sources of src, answers from the cache
// when it can and otherwise POSTs the event built by event. It returns an
// *IdentityError, a *CallError or a Result.
func (c *Client) Authorize(ctx context.Context, s *Spec, src Source, event func() *Event) (Result, error) {
	key, err := s.cacheKey(src)
	if err != nil {
		return Result{}, err
	}
	if key != "" {
		if e, ok := c.cache.Get(key); ok {
			if c.now().Before(e.expires) {
				return Result{Decision: e.d, Cached: true}, nil
			}
			c.cache.Remove(key)
		}
	}
	ev := event()
	ev.Type, ev.UserData = s.Def.GetType(), s.Def.GetUserData()
	d, err := c.call(ctx, s, ev)
	if err != nil {
		var ce *CallError
		if s.Def.GetAuthDowngradeEnabled() && errors.As(err, &ce) && ce.unavailable() {
			return Result{Decision: Decision{Allow: true}, Downgraded: true}, nil
		}
		return Result{}, err
	}
	if key != "" {
		c.cache.Add(key, entry{d: d, expires: c.now().Add(s.ttl)})
	}
	return Result{Decision: d}, nil
}

func (c *Client) call(ctx context.Context, s *Spec, ev *Event) (Decision, error) {
	body, err := json.Marshal(ev)
	if err != nil {
		return Decision{}, &CallError{Err: err}
	}
	ctx, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.url, bytes.NewReader(body))
	if err != nil {
		return Decision{}, &CallError{Err: err}
	}
	req.Header.Set("Content-Type", "application/json")
	if s.authorization != "" {
		req.Header.Set("Authorization", s.authorization)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return Decision{}, &CallError{Err: err}
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, MaxResponseSize+1))
	if err != nil {
		return Decision{}, &CallError{Status: resp.StatusCode, Err: err}
	}
	if resp.StatusCode != http.StatusOK {
		return Decision{}, &CallError{Status: resp.StatusCode, Err: errors.New("status is not 200")}
	}
	if len(data) > MaxResponseSize {
		return Decision{}, &CallError{Status: resp.StatusCode, Err: fmt.Errorf("%w: larger than %d bytes", errBadResponse, MaxResponseSize)}
	}
	d, err := ParseResponse(data)
	if err != nil {
		return Decision{}, &CallError{Status: resp.StatusCode, Err: err}
	}
	return d, nil
}

// Len returns the number of cached decisions.
func (c *Client) Len() int { return c.cache.Len() }
