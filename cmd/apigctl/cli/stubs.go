package cli

import "github.com/spf13/cobra"

func newExportCmd(g *globals) *cobra.Command { return &cobra.Command{Use: "export"} }
func newCallCmd(g *globals) *cobra.Command   { return &cobra.Command{Use: "call"} }
func newSignCmd(g *globals) *cobra.Command   { return &cobra.Command{Use: "sign"} }
