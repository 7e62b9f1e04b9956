package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/stocktrail/stocktrail/internal/ledger"
	"github.com/stocktrail/stocktrail/internal/store"
)

// keyName is the name in the ledger key's signature lines.
const keyName = "stocktrail-ledger"

// ledgerFlags say where the ledger's signing key and the checkpoint copies
// outside the database are.
type ledgerFlags struct {
	keyFile       string
	checkpointLog string
	webhook       string
}

func (l *ledgerFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&l.keyFile, "ledger-key", os.Getenv("STOCKTRAIL_LEDGER_KEY_FILE"),
		"file of the ledger's signing key (default DATA/ledger.key, created on first start); every PostgreSQL node must use the same key")
	fs.StringVar(&l.checkpointLog, "checkpoint-log", os.Getenv("STOCKTRAIL_CHECKPOINT_LOG"),
		"file each signed checkpoint is appended to, outside the database (default DATA/checkpoints.log on SQLite)")
	fs.StringVar(&l.webhook, "checkpoint-webhook", os.Getenv("STOCKTRAIL_CHECKPOINT_WEBHOOK"),
		"URL each signed checkpoint is POSTed to (text/plain)")
}

// key loads the signing key: from STOCKTRAIL_LEDGER_KEY (the key file's
// text itself, for nodes given their secrets by environment), else from
// the key file, created on first use. keyFile is "" when the key came from
// the environment (it cannot be rotated from here then).
func (l *ledgerFlags) key(d *dbFlags) (key *ledger.Key, keyFile string, err error) {
	if text := os.Getenv("STOCKTRAIL_LEDGER_KEY"); text != "" {
		key, err := ledger.ParseKey(text)
		if err != nil {
			return nil, "", fmt.Errorf("STOCKTRAIL_LEDGER_KEY: %w", err)
		}
		return key, "", nil
	}
	path := l.keyFile
	if path == "" {
		path = filepath.Join(d.data, "ledger.key")
	}
	key, err = ledger.LoadOrCreateKeyFile(path, keyName)
	return key, path, err
}

// sealer builds the sealer serve runs.
func (l *ledgerFlags) sealer(ctx context.Context, d *dbFlags, db *store.DB, logger *slog.Logger) (*ledger.Sealer, error) {
	key, keyFile, err := l.key(d)
	if err != nil {
		return nil, err
	}
	s := &ledger.Sealer{DB: db, Key: key, KeyFile: keyFile, CheckpointLog: l.checkpointLog, Logger: logger}
	if s.CheckpointLog == "" && d.url == "" {
		s.CheckpointLog = filepath.Join(d.data, "checkpoints.log")
	}
	if l.webhook != "" {
		s.OnCheckpoint = checkpointPusher(ctx, l.webhook, logger)
	}
	return s, s.Register(ctx)
}

// checkpointPusher POSTs each checkpoint to url from a goroutine of its own,
// so sealing never waits for the receiver. A checkpoint that cannot be
// delivered is logged; the next one supersedes it for a monitor, and all of
// them stay in the database and the checkpoint log.
func checkpointPusher(ctx context.Context, url string, logger *slog.Logger) func(int64, []byte) {
	type push struct {
		ws   int64
		note []byte
	}
	queue := make(chan push, 256)
	client := &http.Client{Timeout: 10 * time.Second}
	go func() {
		for {
			select {
			case <-ctx.Done():
				return
			case p := <-queue:
				req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(p.note))
				if err != nil {
					logger.ErrorContext(ctx, "checkpoint webhook", "err", err)
					continue
				}
				req.Header.Set("Content-Type", "text/plain; charset=utf-8")
				req.Header.Set("Stocktrail-Workspace", strconv.FormatInt(p.ws, 10))
				resp, err := client.Do(req)
				if err == nil {
					io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
					if resp.StatusCode >= 300 {
						err = fmt.Errorf("answered %s", resp.Status)
					}
				}
				if err != nil && ctx.Err() == nil {
					logger.ErrorContext(ctx, "checkpoint webhook", "workspace", p.ws, "err", err)
				}
			}
		}
	}()
	return func(ws int64, note []byte) {
		select {
		case queue <- push{ws, note}:
		default:
			logger.Error("checkpoint webhook: queue full, checkpoint not pushed", "workspace", ws)
		}
	}
}

func ledgerCommand(ctx context.Context, args []string, stdout io.Writer) error {
	if len(args) == 0 {
		return errors.New("ledger: say public-key, rotate-key or bundle")
	}
	if args[0] == "bundle" {
		return ledgerBundleCommand(ctx, args, stdout)
	}
	fs := flag.NewFlagSet("ledger "+args[0], flag.ContinueOnError)
	var d dbFlags
	var l ledgerFlags
	d.register(fs)
	l.register(fs)
	if err := parseFlags(fs, args[1:]); err != nil {
		return err
	}
	switch args[0] {
	case "public-key":
		key, _, err := l.key(&d)
		if err != nil {
			return err
		}
		fmt.Fprintln(stdout, key.Verifier)
		return nil
	case "rotate-key":
		db, err := d.open(ctx)
		if err != nil {
			return err
		}
		defer db.Close()
		key, keyFile, err := l.key(&d)
		if err != nil {
			return err
		}
		s := &ledger.Sealer{DB: db, Key: key, KeyFile: keyFile}
		if err := s.Register(ctx); err != nil {
			return err
		}
		newKey, err := s.RotateKey(ctx)
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "rotated the ledger key in %s; restart the servers that use it.\nold verifier key (checkpoints signed so far): %s\nnew verifier key:\n%s\n",
			keyFile, key.Verifier, newKey.Verifier)
		return nil
	default:
		return fmt.Errorf("ledger: unknown command %q (public-key, rotate-key, bundle)", args[0])
	}
}
