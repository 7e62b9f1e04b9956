// Package pgtest gives tests a real, throwaway PostgreSQL 15 database.
//
// It owns the life of the test PostgreSQL server: it starts one server per
// test binary, lazily, on the first call of [NewDatabase], hands every caller
// a brand-new empty database on it, drops that database when the test ends,
// and stops the server and removes its files in [Main], which the package's
// TestMain calls:
//
//	func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }
//
// Without Main the server still dies with the test binary (the kernel sends
// it SIGQUIT when its parent goes), but its temp folder stays in $TMPDIR.
//
// Environment:
//
//   - STOCKTRAIL_TEST_PG: a postgres:// URL of an existing server whose user may
//     CREATE DATABASE. When set, no server is started; each database is created
//     on that server and dropped at cleanup.
//   - STOCKTRAIL_PG_BIN: the folder of initdb and postgres
//     (default /usr/lib/postgresql/15/bin, Debian's postgresql-15).
//   - STOCKTRAIL_REQUIRE_PG=1: a test that cannot get a database fails instead
//     of being skipped. CI sets it, so that a broken install cannot turn the
//     database tests into silent skips. A set STOCKTRAIL_TEST_PG that does not
//     work fails too, for the same reason.
//
// initdb and postgres refuse to run as root. As root, pgtest runs them as the
// OS user "postgres" (which Debian's postgresql packages create).
package pgtest

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"runtime"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// Environment variables read by this package. See the package documentation.
const (
	EnvURL     = "STOCKTRAIL_TEST_PG"
	EnvBin     = "STOCKTRAIL_PG_BIN"
	EnvRequire = "STOCKTRAIL_REQUIRE_PG"
)

// DefaultBin is where Debian's postgresql-15 package installs the server.
const DefaultBin = "/usr/lib/postgresql/15/bin"

const (
	// startTimeout bounds how long we wait for a fresh server to accept
	// connections. initdb + start take ~1-2 s; 30 s leaves room for a loaded
	// CI machine without letting a broken server hang the test binary.
	startTimeout = 30 * time.Second
	// adminTimeout bounds each CREATE/DROP DATABASE round trip.
	adminTimeout = 30 * time.Second
	// stopTimeout is how long a fast shutdown may take before we SIGKILL.
	stopTimeout = 15 * time.Second
	// logTailBytes is how much of the server log goes into an error message.
	logTailBytes = 8 << 10
)

// shared is the one server of this test binary. It is the only package-level
// mutable state: starting PostgreSQL costs about a second, so every test in
// the binary shares one server and gets its own database on it.
var shared struct {
	once sync.Once
	srv  *server // nil when start failed
	err  error   // why the server is unavailable
}

// server is a PostgreSQL server that databases are created on: either one
// this package started (proc != nil) or an external one from STOCKTRAIL_TEST_PG.
type server struct {
	// adminURL connects as a user allowed to CREATE DATABASE.
	adminURL string
	// dbURL returns the URL of the database name on this server.
	dbURL func(name string) string

	// The rest is set only for a server this package started.
	dir     string        // temp folder: data dir, socket, log
	logPath string        // the server's stderr
	proc    *os.Process   // the postmaster
	done    chan struct{} // closed when the postmaster has exited
	// port is where the postmaster listens; keepPort makes a restart
	// listen there again (a dedicated Server's clients keep their URL).
	port     int
	keepPort bool
}

// NewDatabase returns a connection URL (postgres://...) to a brand-new, empty
// database, created from template0 on the shared throwaway server (or on the
// STOCKTRAIL_TEST_PG server). The database is dropped at t.Cleanup, so a
// test that opens connections should close them in a cleanup registered after
// this call (cleanups run last-in first-out); leftover connections are
// terminated by DROP DATABASE ... WITH (FORCE) anyway.
//
// When no server can be had, the test is skipped, or fails if
// STOCKTRAIL_REQUIRE_PG=1. It is safe to call from parallel tests.
func NewDatabase(t testing.TB) string {
	t.Helper()
	srv, err := sharedServer()
	if err != nil {
		if os.Getenv(EnvRequire) == "1" || os.Getenv(EnvURL) != "" {
			// A configured server or CI must not degrade to skips.
			t.Fatalf("pgtest: no PostgreSQL: %v", err)
		}
		t.Skipf("pgtest: skipping, no PostgreSQL (set %s=1 to fail instead): %v", EnvRequire, err)
	}

	name, err := randomName()
	if err != nil {
		t.Fatalf("pgtest: %v", err)
	}
	// template0 rather than template1: template0 never accepts connections,
	// so parallel CREATE DATABASE calls cannot trip over "source database is
	// being accessed by other users", and nothing added to template1 leaks in.
	create := "CREATE DATABASE " + pgx.Identifier{name}.Sanitize() + " TEMPLATE template0"
	if err := srv.admin(create); err != nil {
		t.Fatalf("pgtest: %v%s", err, srv.logTail())
	}
	t.Cleanup(func() {
		// FORCE terminates connections a test forgot to close, so one leaky
		// test cannot make cleanup fail.
		drop := "DROP DATABASE IF EXISTS " + pgx.Identifier{name}.Sanitize() + " WITH (FORCE)"
		if err := srv.admin(drop); err != nil {
			t.Errorf("pgtest: %v%s", err, srv.logTail())
		}
	})
	return srv.dbURL(name)
}

// Main runs the tests and then stops the server that NewDatabase may have
// started, and removes its temp folder. Call it from TestMain:
//
//	func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }
//
// It returns m.Run's exit code. Trouble while stopping is printed but does not
// change the code: the tests have already passed or failed on their own.
func Main(m *testing.M) int {
	code := m.Run()
	// Calling once.Do here means that a binary that never asked for a
	// database can never start a server after this point.
	shared.once.Do(func() { shared.err = errors.New("pgtest: Main has already stopped the server") })
	if srv := shared.srv; srv != nil {
		if err := srv.stop(); err != nil {
			fmt.Fprintf(os.Stderr, "pgtest: stopping PostgreSQL: %v\n", err)
		}
	}
	return code
}

// sharedServer starts the binary's server on first use and returns it, or
// the reason it could not be had. A failed start is not retried: every test
// would otherwise wait through the same failure again.
func sharedServer() (*server, error) {
	shared.once.Do(func() {
		if u := os.Getenv(EnvURL); u != "" {
			shared.srv, shared.err = externalServer(u)
		} else {
			shared.srv, shared.err = startServer()
		}
	})
	return shared.srv, shared.err
}

// externalServer uses the server at rawURL (STOCKTRAIL_TEST_PG) as is.
func externalServer(rawURL string) (*server, error) {
	u, err := url.Parse(rawURL)
	if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
		return nil, fmt.Errorf("%s must be a postgres:// URL, got %q", EnvURL, rawURL)
	}
	srv := &server{
		adminURL: rawURL,
		dbURL: func(name string) string {
			v := *u
			v.Path = "/" + name
			v.RawPath = ""
			return v.String()
		},
	}
	if err := srv.admin("SELECT 1"); err != nil {
		return nil, fmt.Errorf("server from %s: %w", EnvURL, err)
	}
	return srv, nil
}

// startServer runs initdb in a new temp folder and starts postgres on a free
// loopback port, with durability switched off because test data is
// disposable.
func startServer() (*server, error) {
	c, err := initCluster()
	if err != nil {
		return nil, err
	}
	srv := c.srv
	// The free port is found by binding :0 and closing, so another process
	// can grab it before postgres binds; try a few ports before giving up.
	for attempt := 1; ; attempt++ {
		err = srv.start(c.postgres, c.dataDir, c.cred)
		if err == nil || attempt == 3 || !errors.Is(err, errEarlyExit) {
			break
		}
	}
	if err != nil {
		err = fmt.Errorf("%v%s", err, srv.logTail())
		os.RemoveAll(srv.dir)
		return nil, err
	}
	return srv, nil
}

// cluster is a data folder initdb has made, and how to start its server.
type cluster struct {
	srv      *server
	postgres string // the server program
	dataDir  string
	cred     *syscall.Credential // nil unless running as root
}

// initCluster runs initdb in a new temp folder.
func initCluster() (_ *cluster, err error) {
	bin := os.Getenv(EnvBin)
	if bin == "" {
		bin = DefaultBin
	}
	for _, prog := range []string{"initdb", "postgres"} {
		if _, err := os.Stat(filepath.Join(bin, prog)); err != nil {
			return nil, fmt.Errorf("%s not found in %s (install the Debian package postgresql-15, set %s to its bin folder, or set %s to an existing server): %v",
				prog, bin, EnvBin, EnvURL, err)
		}
	}

	// initdb and postgres exit at once when run as root. Run them as the
	// "postgres" OS user instead, through exec credentials rather than
	// runuser/su: the postmaster is then our direct child, so signals reach
	// it and the kernel kills it (Pdeathsig) if the test binary dies.
	var cred *syscall.Credential
	if os.Geteuid() == 0 {
		cred, err = postgresUser()
		if err != nil {
			return nil, err
		}
	}

	dir, err := os.MkdirTemp("", "stocktrail-pgtest-")
	if err != nil {
		return nil, err
	}
	defer func() {
		if err != nil {
			os.RemoveAll(dir)
		}
	}()
	if cred != nil {
		if err := os.Chown(dir, int(cred.Uid), int(cred.Gid)); err != nil {
			return nil, err
		}
	}

	dataDir := filepath.Join(dir, "data")
	ctx, cancel := context.WithTimeout(context.Background(), startTimeout)
	defer cancel()
	initdb := exec.CommandContext(ctx, filepath.Join(bin, "initdb"),
		"-D", dataDir, "-A", "trust", "-U", "postgres",
		"--no-sync", "--no-instructions", "-E", "UTF8", "--locale=C")
	initdb.Dir = dir // the postgres user may not be able to enter our cwd
	initdb.SysProcAttr = &syscall.SysProcAttr{Credential: cred}
	if out, err := initdb.CombinedOutput(); err != nil {
		return nil, fmt.Errorf("initdb in %s: %v\n%s", dir, err, out)
	}

	srv := &server{dir: dir, logPath: filepath.Join(dir, "postgres.log")}
	return &cluster{srv: srv, postgres: filepath.Join(bin, "postgres"), dataDir: dataDir, cred: cred}, nil
}

// errEarlyExit marks a postmaster that died before accepting connections,
// typically because its port was taken meanwhile.
var errEarlyExit = errors.New("postgres exited before accepting connections")

// start launches the postmaster on a fresh free port (or on s.port, when
// set: a restarted server keeps its address) and waits until it accepts
// connections. settings are more -c name=value options.
func (s *server) start(postgres, dataDir string, cred *syscall.Credential, settings ...string) error {
	port := s.port
	if port == 0 {
		var err error
		if port, err = freePort(); err != nil {
			return err
		}
	}
	// The socket path must fit in sun_path (107 bytes); with a very long
	// TMPDIR go TCP-only rather than fail. Either way postgres must not use
	// the system default /var/run/postgresql, which may be missing or busy.
	sockDir := s.dir
	if len(sockDir)+len("/.s.PGSQL.65535") > 107 {
		sockDir = ""
	}
	logFile, err := os.OpenFile(s.logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	defer logFile.Close() // the child keeps its own descriptor

	args := []string{
		"-D", dataDir,
		"-h", "127.0.0.1",
		"-p", strconv.Itoa(port),
		"-c", "unix_socket_directories=" + sockDir,
		// Tests throw their data away: skip every flush to disk.
		"-c", "fsync=off",
		"-c", "synchronous_commit=off",
		"-c", "full_page_writes=off",
		// Parallel tests, each with its own pool, add up.
		"-c", "max_connections=200",
	}
	for _, set := range settings {
		args = append(args, "-c", set) // later settings win
	}
	cmd := exec.Command(postgres, args...)
	cmd.Dir = s.dir
	cmd.Stdout = logFile
	cmd.Stderr = logFile
	cmd.SysProcAttr = &syscall.SysProcAttr{
		Credential: cred,
		// SIGQUIT is PostgreSQL's immediate shutdown: if the test binary dies
		// without reaching Main (a panic, go test -timeout), the server
		// follows it instead of lingering.
		Pdeathsig: syscall.SIGQUIT,
	}

	// Pdeathsig fires when the OS thread that forked the child exits, not
	// the process. Start and Wait on a goroutine locked to its thread, which
	// therefore lives exactly as long as the postmaster.
	started := make(chan error, 1)
	done := make(chan struct{})
	go func() {
		runtime.LockOSThread()
		// Never unlocked: the thread ends with this goroutine, after the
		// child is gone.
		if err := cmd.Start(); err != nil {
			started <- err
			return
		}
		started <- nil
		cmd.Wait()
		close(done)
	}()
	if err := <-started; err != nil {
		return fmt.Errorf("starting postgres: %w", err)
	}
	s.proc, s.done, s.port = cmd.Process, done, port
	s.adminURL = fmt.Sprintf("postgres://postgres@127.0.0.1:%d/postgres?sslmode=disable", port)
	s.dbURL = func(name string) string {
		return fmt.Sprintf("postgres://postgres@127.0.0.1:%d/%s?sslmode=disable", port, name)
	}

	deadline := time.Now().Add(startTimeout)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		conn, err := pgx.Connect(ctx, s.adminURL)
		cancel()
		if err == nil {
			conn.Close(context.Background())
			return nil
		}
		select {
		case <-done:
			s.proc, s.done = nil, nil
			if s.port == port && !s.keepPort {
				s.port = 0
			}
			return fmt.Errorf("%w (port %d)", errEarlyExit, port)
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			s.kill()
			return fmt.Errorf("postgres did not accept connections on port %d within %v: %v", port, startTimeout, err)
		}
	}
}

// admin runs one statement on the admin connection. A fresh connection per
// call keeps the package free of a shared connection that parallel tests
// would have to serialise on; connecting over loopback costs ~1 ms.
func (s *server) admin(sql string) error {
	ctx, cancel := context.WithTimeout(context.Background(), adminTimeout)
	defer cancel()
	conn, err := pgx.Connect(ctx, s.adminURL)
	if err != nil {
		return fmt.Errorf("connecting to %s: %w", redact(s.adminURL), err)
	}
	defer conn.Close(context.Background())
	if _, err := conn.Exec(ctx, sql); err != nil {
		return fmt.Errorf("%s: %w", sql, err)
	}
	return nil
}

// stop shuts a started server down and removes its folder. It does nothing
// for an external server.
func (s *server) stop() error {
	if s.dir == "" {
		return nil
	}
	if s.proc != nil {
		// SIGINT is PostgreSQL's "fast" shutdown: abort open transactions,
		// close connections, exit cleanly.
		s.proc.Signal(syscall.SIGINT)
		select {
		case <-s.done:
		case <-time.After(stopTimeout):
			s.kill()
		}
	}
	return os.RemoveAll(s.dir)
}

// kill ends the postmaster at once and waits for it.
func (s *server) kill() {
	if s.proc == nil {
		return
	}
	s.proc.Kill()
	<-s.done
	s.proc, s.done = nil, nil
}

// logTail returns the end of the server log, formatted to append to an error
// message, or "" when there is no log.
func (s *server) logTail() string {
	if s.logPath == "" {
		return ""
	}
	b, err := os.ReadFile(s.logPath)
	if err != nil || len(bytes.TrimSpace(b)) == 0 {
		return ""
	}
	if len(b) > logTailBytes {
		b = b[len(b)-logTailBytes:]
	}
	return fmt.Sprintf("\n--- %s ---\n%s", s.logPath, b)
}

// postgresUser returns the credentials of the "postgres" OS user.
func postgresUser() (*syscall.Credential, error) {
	u, err := user.Lookup("postgres")
	if err != nil {
		return nil, fmt.Errorf("running as root, and initdb/postgres refuse root, but there is no OS user \"postgres\" to run them as (install the Debian package postgresql-15, which creates it, or run `useradd -r -m postgres`): %v", err)
	}
	uid, err1 := strconv.ParseUint(u.Uid, 10, 32)
	gid, err2 := strconv.ParseUint(u.Gid, 10, 32)
	if err1 != nil || err2 != nil {
		return nil, fmt.Errorf("OS user postgres has non-numeric uid/gid %q/%q", u.Uid, u.Gid)
	}
	// An empty Groups list drops root's supplementary groups.
	return &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid), Groups: []uint32{}}, nil
}

// freePort asks the kernel for a free loopback TCP port.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// randomName returns a database name that no other test, binary or run will
// pick: 64 random bits.
func randomName() (string, error) {
	b := make([]byte, 8)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	return "t_" + hex.EncodeToString(b), nil
}

// redact hides the password of a URL for error messages.
func redact(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "(unparsable URL)"
	}
	return u.Redacted()
}
