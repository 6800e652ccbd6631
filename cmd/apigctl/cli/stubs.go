package cli

import (
	"errors"
	"fmt"

	"github.com/spf13/cobra"
)

func errorf(format string, args ...any) error {
	if len(args) == 0 {
		return errors.New(format)
	}
	return fmt.Errorf(format, args...)
}

func newCallCmd(g *globals) *cobra.Command { return &cobra.Command{Use: "call"} }
func newSignCmd(g *globals) *cobra.Command { return &cobra.Command{Use: "sign"} }
