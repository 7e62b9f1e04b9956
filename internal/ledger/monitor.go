package ledger

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"sync"
	"time"

	"github.com/stocktrail/stocktrail/internal/activity"
	"github.com/stocktrail/stocktrail/internal/actor"
	"github.com/stocktrail/stocktrail/internal/store"
)

// Monitor is the server's own watch on the ledger: at start it verifies
// everything, then every interval what was sealed since, the triggers, and
// the newest checkpoints kept outside. Its last result turns /readyz red and
// shows admins a banner; a newly found failure is also written to each
// affected workspace's activity log. It never fixes anything.
type Monitor struct {
	DB *store.DB
	// CheckpointLog is the sealer's file of checkpoints kept outside, if
	// any: its newest checkpoints show a truncated ledger.
	CheckpointLog string
	// FullEvery is how often a check reads every entry again rather than
	// only what was sealed since the last one (0: every check is full). An
	// edit to an old entry is found at the next full check.
	FullEvery time.Duration
	Logger    *slog.Logger

	mu       sync.Mutex
	status   MonitorStatus
	sizes    map[int64]int64
	lastFull time.Time
}

// MonitorStatus is the outcome of the monitor's latest check.
type MonitorStatus struct {
	// Checked is false until the first check has finished.
	Checked   bool
	CheckedAt time.Time
	OK        bool
	// Summary is Report.Summary, or why the check could not run.
	Summary string
}

// Status returns the latest outcome.
func (m *Monitor) Status() MonitorStatus {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.status
}

// Err is the reason the ledger does not verify, or nil (also before the
// first check has finished: a long first check must not hold a new node out
// of service).
func (m *Monitor) Err() error {
	s := m.Status()
	if !s.Checked || s.OK {
		return nil
	}
	return errors.New(s.Summary)
}

// tailBytes is how much of the checkpoint file each check reads: the
// newest checkpoints are the ones that show a truncation, and the file
// grows with every sealing round.
const tailBytes = 64 << 10

// Check runs one check now and returns its outcome.
func (m *Monitor) Check(ctx context.Context) MonitorStatus {
	m.mu.Lock()
	since := m.sizes
	full := m.FullEvery == 0 || time.Since(m.lastFull) >= m.FullEvery
	if full {
		since = nil
	}
	m.mu.Unlock()
	opts := VerifyOptions{Since: since}
	var err error
	if m.CheckpointLog != "" {
		opts.Checkpoints, err = newestCheckpoints(m.CheckpointLog)
	}
	var r Report
	if err == nil {
		r, err = Verify(ctx, m.DB, opts)
	}
	st := MonitorStatus{Checked: true, CheckedAt: time.Now().UTC()}
	switch {
	case err != nil:
		st.Summary = "the ledger could not be verified: " + err.Error()
	case r.OK():
		st.OK, st.Summary = true, r.Summary()
	default:
		st.Summary = r.Summary()
	}
	m.mu.Lock()
	was := m.status
	m.status = st
	if err == nil && r.OK() {
		m.sizes = r.Sizes
		if full {
			m.lastFull = time.Now()
		}
	}
	m.mu.Unlock()
	if ctx.Err() != nil {
		return st
	}
	if !st.OK && (was.OK || !was.Checked || was.Summary != st.Summary) {
		m.report(ctx, r, st)
	}
	return st
}

// Run checks at once and then every interval until ctx ends.
func (m *Monitor) Run(ctx context.Context, interval time.Duration) {
	for {
		m.Check(ctx)
		select {
		case <-ctx.Done():
			return
		case <-time.After(interval):
		}
	}
}

// report logs a newly found failure and records it in the activity log of
// every workspace it names (all of them when it names none, e.g. a
// dropped trigger).
func (m *Monitor) report(ctx context.Context, r Report, st MonitorStatus) {
	if m.Logger != nil {
		m.Logger.ErrorContext(ctx, "ledger verification failed", "summary", st.Summary)
	}
	workspaces := map[int64]bool{}
	for _, p := range r.Problems {
		if p.Workspace != 0 {
			workspaces[p.Workspace] = true
		}
	}
	if len(workspaces) == 0 {
		rows, err := m.DB.Read().QueryContext(ctx, `SELECT id FROM workspaces`)
		if err == nil {
			for rows.Next() {
				var ws int64
				if rows.Scan(&ws) == nil {
					workspaces[ws] = true
				}
			}
			rows.Close()
		}
	}
	for ws := range workspaces {
		sys := actor.With(context.WithoutCancel(ctx), actor.SystemActor(ws, "ledger monitor"))
		err := activity.RecordNow(sys, m.DB, activity.Event{Action: activity.Update, Category: activity.Audit,
			EntityType: "ledger", EntityID: fmt.Sprint(ws), Description: "ledger verification failed: " + st.Summary})
		if err != nil && m.Logger != nil {
			m.Logger.ErrorContext(ctx, "record the ledger failure", "workspace", ws, "err", err)
		}
	}
}

// newestCheckpoints reads the signed checkpoints at the end of the file.
func newestCheckpoints(path string) ([][]byte, error) {
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("checkpoint log: %w", err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, err
	}
	start := max(fi.Size()-tailBytes, 0)
	b := make([]byte, fi.Size()-start)
	if _, err := io.ReadFull(io.NewSectionReader(f, start, int64(len(b))), b); err != nil {
		return nil, fmt.Errorf("checkpoint log: %w", err)
	}
	if start > 0 {
		b = fromNoteStart(b)
	}
	return ParseCheckpointLog(b)
}

// fromNoteStart cuts b to begin at the first whole note: after the first
// blank line that follows a signature line (a blank line after a note's
// text separates it from its own signatures).
func fromNoteStart(b []byte) []byte {
	for off := 0; ; {
		i := bytes.Index(b[off:], []byte("\n\n"))
		if i < 0 {
			return nil
		}
		end := off + i // the newline ending the line before the blank one
		lineStart := bytes.LastIndexByte(b[:end], '\n') + 1
		if bytes.HasPrefix(b[lineStart:end], []byte("— ")) {
			return b[end+2:]
		}
		off = end + 1
	}
}
