package counter

import (
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
)

// OpenRedis returns a counter on a Redis it connects to (lazily: an
// unreachable Redis shows as Take errors, handled by the service's
// failure mode). spec is one of
//
//	redis://[user:password@]host:port[/db]   one server (rediss:// for TLS)
//	redis://host:port?addr=host2:port2&...   a cluster, from seed addresses
//	redis+cluster://host:port                a cluster behind one endpoint
//	host:port[,host:port...]                 one server, or a cluster if several
//
// Close closes the connection pool.
func OpenRedis(spec string, opts ...RedisOption) (*Redis, error) {
	client, err := redisClient(spec)
	if err != nil {
		return nil, err
	}
	r, err := NewRedis(client, opts...)
	if err != nil {
		_ = client.Close()
		return nil, err
	}
	r.owned = true
	return r, nil
}

// Client settings for a request path: commands honour the caller's
// deadline, a dead server is dialled once per attempt rather than with
// go-redis' 5 retries 100ms apart, a script call is never resent (it is
// not idempotent: a lost reply must not count twice), and replies are
// RESP2 (RESP3 makes go-redis look for push notifications around every
// command).
const (
	dialTimeout   = time.Second
	ioTimeout     = time.Second
	dialerRetries = 1
	noRetries     = -1
	resp2         = 2
)

func redisClient(spec string) (redis.UniversalClient, error) {
	spec = strings.TrimSpace(spec)
	if spec == "" {
		return nil, fmt.Errorf("counter: empty redis address")
	}
	if !strings.Contains(spec, "://") {
		addrs := strings.Split(spec, ",")
		for i := range addrs {
			addrs[i] = strings.TrimSpace(addrs[i])
		}
		return redis.NewUniversalClient(&redis.UniversalOptions{
			Addrs: addrs, ContextTimeoutEnabled: true, DialerRetries: dialerRetries, MaxRetries: noRetries, Protocol: resp2,
			DialTimeout: dialTimeout, ReadTimeout: ioTimeout, WriteTimeout: ioTimeout,
		}), nil
	}
	u, err := url.Parse(spec)
	if err != nil {
		return nil, fmt.Errorf("counter: redis url: %w", err)
	}
	cluster := u.Query().Has("addr")
	if s, ok := strings.CutSuffix(u.Scheme, "+cluster"); ok {
		u.Scheme, cluster = s, true
	}
	if cluster {
		o, err := redis.ParseClusterURL(u.String())
		if err != nil {
			return nil, fmt.Errorf("counter: redis cluster url: %w", err)
		}
		o.ContextTimeoutEnabled, o.DialerRetries, o.MaxRetries, o.Protocol = true, dialerRetries, noRetries, resp2
		defaults(&o.DialTimeout, &o.ReadTimeout, &o.WriteTimeout)
		return redis.NewClusterClient(o), nil
	}
	o, err := redis.ParseURL(u.String())
	if err != nil {
		return nil, fmt.Errorf("counter: redis url: %w", err)
	}
	o.ContextTimeoutEnabled, o.DialerRetries, o.MaxRetries, o.Protocol = true, dialerRetries, noRetries, resp2
	defaults(&o.DialTimeout, &o.ReadTimeout, &o.WriteTimeout)
	return redis.NewClient(o), nil
}

// defaults sets the timeouts the URL left unset.
func defaults(dial, read, write *time.Duration) {
	if *dial == 0 {
		*dial = dialTimeout
	}
	for _, d := range []*time.Duration{read, write} {
		if *d == 0 {
			*d = ioTimeout
		}
	}
}
