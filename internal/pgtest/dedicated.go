package pgtest

import (
	"errors"
	"fmt"
	"net/url"
	"os"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// Server is a PostgreSQL server of one test's own, which the test may stop
// and start again (the fault suite takes the database away from a running
// stocktrail). The shared server of NewDatabase must never be stopped: every
// other test of the binary uses it.
//
// Unlike the shared server it commits synchronously: an immediate shutdown
// ends the server processes, not the machine, so what a commit has written
// survives without fsync, but with synchronous_commit=off a commit already
// acknowledged could still sit in the server's memory and be lost, and a
// test counting acknowledged writes would blame stocktrail for it.
type Server struct {
	c *cluster
	// URL connects to the database "postgres" as its superuser; it stays
	// the same across restarts.
	URL string
}

// NewServer initialises and starts a server that lives until the test ends.
// It needs the PostgreSQL programs (STOCKTRAIL_PG_BIN) whatever
// STOCKTRAIL_TEST_PG says: an external server cannot be stopped by a test.
// The caller decides whether an error skips or fails the test.
func NewServer(t testing.TB) (*Server, error) {
	c, err := initCluster()
	if err != nil {
		return nil, err
	}
	c.srv.keepPort = true
	s := &Server{c: c}
	if err := s.Start(); err != nil {
		// A taken port cannot be kept: pick another for a fresh start.
		c.srv.port = 0
		if err = s.Start(); err != nil {
			os.RemoveAll(c.srv.dir)
			return nil, err
		}
	}
	t.Cleanup(func() {
		if err := c.srv.stop(); err != nil {
			t.Errorf("pgtest: stopping the dedicated server: %v", err)
		}
	})
	return s, nil
}

// Start starts the server (again), on the same port, and waits until it
// accepts connections. After Stop it first recovers from the crash.
func (s *Server) Start() error {
	if s.c.srv.proc != nil {
		return errors.New("pgtest: the server is already running")
	}
	if err := s.c.srv.start(s.c.postgres, s.c.dataDir, s.c.cred, "synchronous_commit=on"); err != nil {
		return fmt.Errorf("%v%s", err, s.c.srv.logTail())
	}
	s.URL = s.c.srv.adminURL
	return nil
}

// Stop is PostgreSQL's immediate shutdown (pg_ctl stop -m immediate, the
// nearest to a crash): the postmaster and every backend exit at once,
// connections are cut without a goodbye, and the next start runs crash
// recovery. It waits until the postmaster has exited.
func (s *Server) Stop() error {
	srv := s.c.srv
	if srv.proc == nil {
		return errors.New("pgtest: the server is not running")
	}
	srv.proc.Signal(syscall.SIGQUIT)
	select {
	case <-srv.done:
	case <-time.After(stopTimeout):
		srv.kill()
		return errors.New("pgtest: postgres did not stop after SIGQUIT; killed it")
	}
	srv.proc, srv.done = nil, nil
	return nil
}

// NewDatabase creates an empty database on the server and returns its URL.
func (s *Server) NewDatabase(t testing.TB) string {
	t.Helper()
	name, err := randomName()
	if err != nil {
		t.Fatalf("pgtest: %v", err)
	}
	if err := s.c.srv.admin("CREATE DATABASE " + pgx.Identifier{name}.Sanitize() + " TEMPLATE template0"); err != nil {
		t.Fatalf("pgtest: %v%s", err, s.c.srv.logTail())
	}
	u, _ := url.Parse(s.URL)
	u.Path = "/" + name
	return u.String()
}

// LogTail returns the end of the server's log, for a failure message.
func (s *Server) LogTail() string { return s.c.srv.logTail() }
