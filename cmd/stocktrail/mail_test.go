package main

import (
	"bufio"
	"bytes"
	"context"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"
)

// TestServeRefusesBadMailSettings: a bad e-mail setting stops serve before
// it opens the database, with an error naming the setting.
func TestServeRefusesBadMailSettings(t *testing.T) {
	for _, c := range []struct {
		args []string
		env  map[string]string
		want string
	}{
		{[]string{"--smtp-url", "http://mail.example.com", "--smtp-from", "a@example.com"}, nil, "--smtp-url: the scheme must be smtp or smtps"},
		{[]string{"--smtp-url", "smtp://mail.example.com"}, nil, "--smtp-from"},
		{nil, map[string]string{"STOCKTRAIL_SMTP_URL": "smtp://mail.example.com", "STOCKTRAIL_SMTP_FROM": "nobody"}, "--smtp-from"},
		{[]string{"--smtp-url", "smtp://mail.example.com", "--smtp-from", "a@example.com", "--smtp-starttls", "maybe"}, nil, "--smtp-starttls"},
		{[]string{"--smtp-url", "smtp://mail.example.com", "--smtp-from", "a@example.com", "--smtp-timeout", "0"}, nil, "--smtp-timeout"},
		{[]string{"--base-url", "stock.example.com"}, nil, "--base-url"},
	} {
		dir := t.TempDir()
		for k, v := range c.env {
			t.Setenv(k, v)
		}
		_, err := runCLI(t, append([]string{"serve", "--addr", "127.0.0.1:0", "--data", dir}, c.args...)...)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%v %v: err = %v, want %q", c.args, c.env, err, c.want)
		}
		if entries, _ := os.ReadDir(dir); len(entries) != 0 {
			t.Errorf("%v: serve created %d files before refusing", c.args, len(entries))
		}
		for k := range c.env {
			os.Unsetenv(k)
		}
	}
}

// TestServeEndsLiveFeedsOnShutdown: an open live feed does not hold up the
// shutdown; it ends with a comment telling the client to reconnect.
func TestServeEndsLiveFeedsOnShutdown(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("STOCKTRAIL_ADMIN_EMAIL", "boss@example.com")
	t.Setenv("STOCKTRAIL_ADMIN_PASSWORD", "correct horse battery")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var out syncBuffer
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"serve", "--addr", "127.0.0.1:18932", "--data", dir}, &out, &bytes.Buffer{})
	}()
	if err := waitReady("127.0.0.1:18932", 20*time.Second); err != nil {
		t.Fatalf("server not ready: %v; output %s", err, out.String())
	}
	key, err := runCLI(t, "apikey", "create", "--role", "auditor", "--name", "dashboard", "--data", dir)
	if err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequest("GET", "http://127.0.0.1:18932/api/v1/events/stream", nil)
	req.Header.Set("Authorization", "Bearer "+lines2(key))
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	if res.StatusCode != 200 {
		t.Fatalf("feed answered %d", res.StatusCode)
	}
	lines := make(chan string, 100)
	go func() {
		defer close(lines)
		sc := bufio.NewScanner(res.Body)
		for sc.Scan() {
			lines <- sc.Text()
		}
	}()
	if first := <-lines; first != "retry: 2000" {
		t.Fatalf("feed starts with %q", first)
	}
	start := time.Now()
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("serve returned %v", err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("serve did not stop with a feed open")
	}
	if d := time.Since(start); d > 10*time.Second {
		t.Fatalf("shutdown took %v with a feed open", d)
	}
	var said []string
	for l := range lines {
		said = append(said, l)
	}
	if !strings.Contains(strings.Join(said, "\n"), ": server shutting down; reconnect with Last-Event-ID") {
		t.Fatalf("feed ended without saying so: %q", said)
	}
}
