package main

import (
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestEchoAndAuthorizer(t *testing.T) {
	srv := httptest.NewServer(Handler("release", slog.New(slog.DiscardHandler)))
	t.Cleanup(srv.Close)

	req, _ := http.NewRequest(http.MethodGet, srv.URL+"/v1/pets?page_size=10", nil)
	req.Header.Set("X-App-Id", "app1")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var e Echo
	if err := json.NewDecoder(resp.Body).Decode(&e); err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if e.Backend != "release" || e.Path != "/v1/pets" || e.Query["page_size"][0] != "10" || e.Headers["x-app-id"] != "app1" {
		t.Errorf("echo: %+v", e)
	}

	for token, want := range map[string]string{"Bearer demo-token-alice": `"user":"alice"`, "Bearer nope": `"status":"deny"`} {
		body := `{"type":"FRONTEND","headers":{"authorization":"` + token + `"}}`
		resp, err := http.Post(srv.URL+"/authorize", "application/json", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		var out map[string]any
		_ = json.NewDecoder(resp.Body).Decode(&out)
		resp.Body.Close()
		b, _ := json.Marshal(out)
		if resp.StatusCode != http.StatusOK || !strings.Contains(string(b), want) {
			t.Errorf("authorize %q: %d %s, want %s", token, resp.StatusCode, b, want)
		}
	}
}

func TestRunRejectsBadListen(t *testing.T) {
	if err := run(t.Context(), []string{"-listen", "nope"}); err == nil || !strings.Contains(err.Error(), "name=address") {
		t.Errorf("err = %v", err)
	}
}
