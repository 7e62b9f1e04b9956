package notify_test

import (
	"os"
	"testing"

	"github.com/stocktrail/stocktrail/internal/pgtest"
)

func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }
