package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// The movement benchmarks send their requests from a child process, as
// real clients would: client goroutines in the server's own process would
// share its scheduler with the handlers and the SQLite writer, and take CPU
// time from them that the server's figures would then include.

// loadResult is what a load run reports.
type loadResult struct {
	OK     int64 `json:"ok"`
	Failed int64 `json:"failed"`
	// FirstError is the status and body of the first failed request.
	FirstError string `json:"first_error,omitempty"`
}

// loadKeyEnv passes the API key to the child, out of its command line.
const loadKeyEnv = "STOCKTRAIL_BENCH_KEY"

// runLoad POSTs bodies (picked at random) to url from clients concurrent
// clients for dur, in a child process, and returns when it has finished.
func runLoad(ctx context.Context, url, key string, bodies []string, clients int, dur time.Duration) (loadResult, error) {
	exe, err := os.Executable()
	if err != nil {
		return loadResult{}, err
	}
	f, err := os.CreateTemp("", "stocktrail-load-*.txt")
	if err != nil {
		return loadResult{}, err
	}
	defer os.Remove(f.Name())
	w := bufio.NewWriter(f)
	for _, b := range bodies {
		if strings.ContainsRune(b, '\n') {
			f.Close()
			return loadResult{}, errors.New("a request body holds a newline")
		}
		w.WriteString(b)
		w.WriteByte('\n')
	}
	if err := errors.Join(w.Flush(), f.Close()); err != nil {
		return loadResult{}, err
	}
	cmd := exec.CommandContext(ctx, exe, "bench-load", "--url", url, "--bodies", f.Name(),
		"--clients", fmt.Sprint(clients), "--duration", dur.String())
	cmd.Env = append(os.Environ(), loadKeyEnv+"="+key)
	cmd.Stderr = os.Stderr
	out, err := cmd.Output()
	if err != nil {
		return loadResult{}, fmt.Errorf("load generator: %w", err)
	}
	var res loadResult
	if err := json.Unmarshal(out, &res); err != nil {
		return loadResult{}, fmt.Errorf("load generator said %q: %w", out, err)
	}
	return res, nil
}

// benchLoadCommand is the child side of runLoad (`stocktrail bench-load`):
// each client has its own connection and sends one request at a time,
// counting 2xx answers as done; it prints a loadResult as JSON.
func benchLoadCommand(ctx context.Context, args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("bench-load", flag.ContinueOnError)
	url := fs.String("url", "", "where to POST")
	bodiesFile := fs.String("bodies", "", "file of request bodies, one per line")
	clients := fs.Int("clients", 16, "concurrent clients")
	dur := fs.Duration("duration", 10*time.Second, "how long to send")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	raw, err := os.ReadFile(*bodiesFile)
	if err != nil {
		return err
	}
	bodies := strings.Split(strings.TrimSuffix(string(raw), "\n"), "\n")
	if *url == "" || len(bodies) == 0 || bodies[0] == "" || *clients < 1 {
		return errors.New("bench-load needs --url, --bodies and --clients ≥ 1")
	}
	key := os.Getenv(loadKeyEnv)
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: *clients}}
	var res loadResult
	var ok, failed atomic.Int64
	var firstErr sync.Once
	deadline := time.Now().Add(*dur)
	var wg sync.WaitGroup
	for c := 0; c < *clients; c++ {
		wg.Add(1)
		go func(c int) {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(uint64(c), 9))
			for time.Now().Before(deadline) && ctx.Err() == nil {
				req, _ := http.NewRequestWithContext(ctx, "POST", *url, strings.NewReader(bodies[rng.IntN(len(bodies))]))
				req.Header.Set("Authorization", "Bearer "+key)
				req.Header.Set("Content-Type", "application/json")
				resp, err := client.Do(req)
				if err != nil {
					failed.Add(1)
					firstErr.Do(func() { res.FirstError = err.Error() })
					continue
				}
				body, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				if resp.StatusCode/100 == 2 {
					ok.Add(1)
				} else {
					failed.Add(1)
					firstErr.Do(func() { res.FirstError = fmt.Sprintf("%d %s", resp.StatusCode, body) })
				}
			}
		}(c)
	}
	wg.Wait()
	res.OK, res.Failed = ok.Load(), failed.Load()
	return json.NewEncoder(stdout).Encode(res)
}
