package mail_test

import (
	"os"
	"strconv"
	"testing"

	"github.com/stocktrail/stocktrail/internal/pgtest"
)

func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
