package main

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stocktrail/stocktrail/internal/auth"
	"github.com/stocktrail/stocktrail/internal/store"
)

func runCLI(t *testing.T, args ...string) (string, error) {
	t.Helper()
	var out, errOut bytes.Buffer
	err := run(context.Background(), args, &out, &errOut)
	return out.String(), err
}

func TestCLIAdministration(t *testing.T) {
	dir := t.TempDir()
	if _, err := runCLI(t, "apikey", "create", "--role", "admin", "--name", "x", "--data", dir); err == nil || !strings.Contains(err.Error(), "no workspace yet") {
		t.Fatalf("apikey before any workspace: %v", err)
	}
	ctx := context.Background()
	db, err := store.Open(ctx, store.Config{DataDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	if _, _, err := auth.New(db).Bootstrap(ctx, "admin@example.com", "correct horse battery"); err != nil {
		t.Fatal(err)
	}
	db.Close()

	out, err := runCLI(t, "apikey", "create", "--role", "auditor", "--name", "reporting", "--data", dir)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if last := lines[len(lines)-1]; !strings.HasPrefix(last, "stk_") || strings.Contains(last, " ") {
		t.Fatalf("last line is not the key alone: %q", last)
	}
	if _, err := runCLI(t, "apikey", "create", "--role", "king", "--name", "x", "--data", dir); err == nil || !strings.Contains(err.Error(), "role") {
		t.Fatalf("bad role: %v", err)
	}
	out, err = runCLI(t, "user", "create", "--email", "op@example.com", "--name", "Op", "--role", "operator", "--data", dir)
	if err != nil || !strings.Contains(out, "password: ") {
		t.Fatalf("user create: %v %q", err, out)
	}
	out, err = runCLI(t, "user", "list", "--data", dir)
	if err != nil || !strings.Contains(out, "op@example.com") || !strings.Contains(out, "admin@example.com") {
		t.Fatalf("user list: %v %q", err, out)
	}
	if _, err := runCLI(t, "user", "set-password", "--email", "op@example.com", "--password", "short", "--data", dir); err == nil {
		t.Fatal("short password accepted")
	}
	out, err = runCLI(t, "station", "create", "--name", "Dock 1", "--data", dir)
	if err != nil || !strings.HasPrefix(lines2(out), "sts_") {
		t.Fatalf("station create: %v %q", err, out)
	}
	if _, err := runCLI(t, "bogus"); err == nil {
		t.Fatal("unknown command accepted")
	}
	if _, err := runCLI(t, "serve", "--db", "mysql://x"); err == nil || !strings.Contains(err.Error(), "unsupported database URL") {
		t.Fatalf("bad db URL: %v", err)
	}
}

func lines2(out string) string {
	lines := strings.Split(strings.TrimSpace(out), "\n")
	return lines[len(lines)-1]
}

// TestServeStartsAndStops runs the real serve command: first start creates
// the admin, the health endpoints answer, and a signal stops it cleanly.
func TestServeStartsAndStops(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("STOCKTRAIL_ADMIN_EMAIL", "boss@example.com")
	t.Setenv("STOCKTRAIL_ADMIN_PASSWORD", "")
	ctx, cancel := context.WithCancel(context.Background())
	var out syncBuffer
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"serve", "--addr", "127.0.0.1:18931", "--data", dir}, &out, &bytes.Buffer{})
	}()
	if err := waitReady("127.0.0.1:18931", 20*time.Second); err != nil {
		t.Fatalf("server not ready: %v; output %s", err, out.String())
	}
	if s := out.String(); !strings.Contains(s, "log in as boss@example.com with password ") {
		t.Fatalf("first start does not print the login: %q", s)
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("serve returned %v", err)
		}
	case <-time.After(35 * time.Second):
		t.Fatal("serve did not stop")
	}
}

// waitReady waits until the server at addr answers /readyz with 200, or
// returns the last reason it did not once timeout has passed.
func waitReady(addr string, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for {
		resp, err := http.Get("http://" + addr + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
			err = fmt.Errorf("readyz answered %d", resp.StatusCode)
		}
		if time.Now().After(deadline) {
			return err
		}
		time.Sleep(30 * time.Millisecond)
	}
}
