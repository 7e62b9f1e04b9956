package store

import (
	"errors"
	"fmt"
	"os"
	"sync"
)

// walFile makes SQLite's write-ahead log durable on demand. The writer's
// connection runs with synchronous=NORMAL, so a COMMIT only appends its
// pages to the log; the group committer then fsyncs the log here, off the
// writer, before it answers the group's callers, while the writer already
// runs the next group. An fsync of any descriptor of a file flushes every
// write made to it, SQLite's included.
type walFile struct {
	path   string
	mu     sync.Mutex
	f      *os.File
	closed bool
}

// sync flushes the log to disk. The log is opened on first use and opened
// again if SQLite has replaced the file, so the flush always reaches the
// file SQLite writes.
func (w *walFile) sync() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closed {
		return errors.New("database is closed")
	}
	now, err := os.Stat(w.path)
	if err != nil {
		return fmt.Errorf("write-ahead log: %w", err)
	}
	if w.f != nil {
		if held, err := w.f.Stat(); err != nil || !os.SameFile(held, now) {
			w.f.Close()
			w.f = nil
		}
	}
	if w.f == nil {
		f, err := os.OpenFile(w.path, os.O_RDWR, 0)
		if err != nil {
			return fmt.Errorf("write-ahead log: %w", err)
		}
		w.f = f
	}
	if err := w.f.Sync(); err != nil {
		return fmt.Errorf("fsync write-ahead log: %w", err)
	}
	return nil
}

func (w *walFile) close() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.closed = true
	if w.f == nil {
		return nil
	}
	err := w.f.Close()
	w.f = nil
	return err
}
