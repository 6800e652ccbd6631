package cli

import (
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	adminv1 "github.com/apigw/apigw/proto/apigw/admin/v1"
)

func newTopCmd(g *globals) *cobra.Command {
	var output, window, env string
	var limit int32
	cmd := &cobra.Command{
		Use:   "top",
		Short: "Show the busiest APIs: calls, errors and latency over a rolling window",
		Long: `Top lists the APIs of the instance with the most calls over a rolling
window (1m, 5m, 1h or 24h) ending now: calls, 4xx and 5xx responses, the most
frequent APIG error codes and the gateway latency percentiles. The figures
come from the access logs of the Envoys connected to the apigw answering;
with several replicas each answers for its own Envoys (see
docs/observability.md). "(none)" are calls that matched no API, "(other)"
the APIs beyond --api-metrics-max-apis.`,
		Args: cobra.NoArgs,
		RunE: run(g, func(cmd *cobra.Command, _ []string) error {
			if err := checkOutput(output, outTable, outYAML, outJSON); err != nil {
				return usageError(err)
			}
			resp, err := getAPIMetrics(cmd, g, &adminv1.GetAPIMetricsRequest{Instance: g.instance, Env: env, Windows: []string{window}, Limit: limit})
			if err != nil {
				return err
			}
			if output != outTable {
				return printMessage(g.streams.Out, output, resp)
			}
			return printTop(g.streams.Out, resp)
		}),
	}
	cmd.Flags().StringVarP(&output, "output", "o", outTable, "Output format: table, yaml or json.")
	cmd.Flags().StringVarP(&window, "window", "w", "5m", "Rolling window: 1m, 5m, 1h or 24h.")
	cmd.Flags().StringVar(&env, "env", "", "Only this environment (name or id).")
	cmd.Flags().Int32VarP(&limit, "limit", "n", 20, "Number of APIs shown (0: all).")
	return cmd
}

func newMetricsCmd(g *globals) *cobra.Command {
	var output, env string
	cmd := &cobra.Command{
		Use:   "metrics API",
		Short: "Show an API's calls, status classes, error codes and latency over every window",
		Long: `Metrics shows one API (name or id), per environment, over the rolling
windows 1m, 5m, 1h and 24h: calls by status class, denials and throttled
calls, calls per APIG error code, and the gateway and backend latency
(average, p50, p90, p99 in ms, estimated from a histogram).`,
		Args: cobra.ExactArgs(1),
		RunE: run(g, func(cmd *cobra.Command, args []string) error {
			if err := checkOutput(output, outTable, outYAML, outJSON); err != nil {
				return usageError(err)
			}
			resp, err := getAPIMetrics(cmd, g, &adminv1.GetAPIMetricsRequest{Instance: g.instance, Api: args[0], Env: env})
			if err != nil {
				return err
			}
			if output != outTable {
				return printMessage(g.streams.Out, output, resp)
			}
			if len(resp.GetApis()) == 0 {
				fmt.Fprintf(g.streams.Out, "No calls of %s in the last 24h seen by this apigw (%d access-log streams).\n", args[0], resp.GetStreams())
				return nil
			}
			return printAPIMetrics(g.streams.Out, resp)
		}),
	}
	cmd.Flags().StringVarP(&output, "output", "o", outTable, "Output format: table, yaml or json.")
	cmd.Flags().StringVar(&env, "env", "", "Only this environment (name or id).")
	return cmd
}

func getAPIMetrics(cmd *cobra.Command, g *globals, req *adminv1.GetAPIMetricsRequest) (*adminv1.GetAPIMetricsResponse, error) {
	c, err := g.client()
	if err != nil {
		return nil, err
	}
	ctx, cancel := g.ctx(cmd.Context())
	defer cancel()
	return c.GetAPIMetrics(ctx, req)
}

func apiLabel(a *adminv1.ApiMetrics) string {
	if a.GetApiName() != "" {
		return a.GetApiName()
	}
	return a.GetApiId()
}

func envLabel(a *adminv1.ApiMetrics) string {
	if a.GetEnvName() != "" {
		return a.GetEnvName()
	}
	return a.GetEnvId()
}

// topCodes formats the most frequent error codes ("APIG.0308×12 ...").
func topCodes(codes map[string]int64, n int) string {
	keys := make([]string, 0, len(codes))
	for k := range codes {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(a, b string) int {
		if codes[a] != codes[b] {
			if codes[a] > codes[b] {
				return -1
			}
			return 1
		}
		return strings.Compare(a, b)
	})
	if len(keys) > n {
		keys = keys[:n]
	}
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = k + "×" + strconv.FormatInt(codes[k], 10)
	}
	return strings.Join(parts, " ")
}

func ms(v float64) string { return strconv.FormatFloat(v, 'f', 1, 64) }

func printTop(w io.Writer, resp *adminv1.GetAPIMetricsResponse) error {
	var rows [][]string
	for _, a := range resp.GetApis() {
		x := a.GetWindows()[0]
		rows = append(rows, []string{apiLabel(a), envLabel(a), strconv.FormatInt(x.GetCalls(), 10),
			strconv.FormatInt(x.GetStatus_4Xx(), 10), strconv.FormatInt(x.GetStatus_5Xx(), 10),
			ms(x.GetLatencyP50Ms()), ms(x.GetLatencyP99Ms()), topCodes(x.GetErrorCodes(), 3)})
	}
	return printTable(w, []string{"API", "ENV", "CALLS", "4XX", "5XX", "P50 MS", "P99 MS", "ERRORS"}, rows)
}

func printAPIMetrics(w io.Writer, resp *adminv1.GetAPIMetricsResponse) error {
	for i, a := range resp.GetApis() {
		if i > 0 {
			fmt.Fprintln(w)
		}
		fmt.Fprintf(w, "API:  %s (%s)  group %s\nEnv:  %s\n", apiLabel(a), a.GetApiId(), a.GetGroupId(), envLabel(a))
		var rows [][]string
		for _, x := range a.GetWindows() {
			rows = append(rows, []string{x.GetWindow(), strconv.FormatInt(x.GetCalls(), 10),
				strconv.FormatInt(x.GetStatus_2Xx(), 10), strconv.FormatInt(x.GetStatus_4Xx(), 10), strconv.FormatInt(x.GetStatus_5Xx(), 10),
				strconv.FormatInt(x.GetDenied(), 10), strconv.FormatInt(x.GetThrottled(), 10),
				ms(x.GetLatencyAvgMs()) + "/" + ms(x.GetLatencyP50Ms()) + "/" + ms(x.GetLatencyP90Ms()) + "/" + ms(x.GetLatencyP99Ms()),
				ms(x.GetBackendAvgMs()) + "/" + ms(x.GetBackendP50Ms()) + "/" + ms(x.GetBackendP90Ms()) + "/" + ms(x.GetBackendP99Ms()),
				topCodes(x.GetErrorCodes(), 5)})
		}
		if err := printTable(w, []string{"WINDOW", "CALLS", "2XX", "4XX", "5XX", "DENIED", "THROTTLED", "LATENCY AVG/P50/P90/P99 MS", "BACKEND AVG/P50/P90/P99 MS", "ERRORS"}, rows); err != nil {
			return err
		}
	}
	return nil
}
