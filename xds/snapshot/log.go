package snapshot

import (
	"context"
	"fmt"
	"log/slog"

	gcplog "github.com/envoyproxy/go-control-plane/pkg/log"
)

// Logger adapts a slog.Logger to go-control-plane's logger. Its Info
// messages (one per watch) are logged at debug level.
func Logger(l *slog.Logger) gcplog.Logger { return gcpLogger{l} }

type gcpLogger struct{ l *slog.Logger }

func (g gcpLogger) log(level slog.Level, format string, args []any) {
	if g.l.Enabled(context.Background(), level) {
		g.l.Log(context.Background(), level, fmt.Sprintf(format, args...))
	}
}

func (g gcpLogger) Debugf(format string, args ...any) { g.log(slog.LevelDebug, format, args) }
func (g gcpLogger) Infof(format string, args ...any)  { g.log(slog.LevelDebug, format, args) }
func (g gcpLogger) Warnf(format string, args ...any)  { g.log(slog.LevelWarn, format, args) }
func (g gcpLogger) Errorf(format string, args ...any) { g.log(slog.LevelError, format, args) }
